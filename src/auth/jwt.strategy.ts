import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AccessTokenService } from './access-token.service.js';
import type { AuthUser } from './auth-user.interface.js';

/**
 * passport-jwt strategy for bearer access tokens: pinned algorithm, issuer, audience and `typ`,
 * keys by `kid` from our key ring (parsed once at boot), then the revocation check.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(private readonly accessTokens: AccessTokenService) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKeyProvider: (
        _request: unknown,
        rawJwt: string,
        done: (error: unknown, key?: string | Buffer) => void,
      ) => {
        try {
          // jsonwebtoken takes a KeyObject as is; the typings only know strings and buffers.
          done(null, accessTokens.keyFor(rawJwt) as unknown as Buffer);
        } catch (error) {
          done(error);
        }
      },
      algorithms: accessTokens.verifyOptions.algorithms,
      issuer: accessTokens.verifyOptions.issuer,
      audience: accessTokens.verifyOptions.audience,
      jsonWebTokenOptions: { clockTolerance: accessTokens.verifyOptions.clockTolerance },
      ignoreExpiration: false,
    });
  }

  validate(claims: unknown): Promise<AuthUser> {
    return this.accessTokens.authenticate(claims);
  }
}
