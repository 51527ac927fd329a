import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { Strategy as PassportJwtStrategy } from 'passport-jwt';
import { AccessTokenService } from './access-token.service.js';
import type { AuthUser } from './auth-user.interface.js';
import { bearerToken } from './bearer-token.js';

/** The options of passport-jwt's `Strategy` that we pass. */
interface BearerStrategyOptions {
  jwtFromRequest: (request: Request) => string | null;
  secretOrKeyProvider: (
    request: unknown,
    rawJwt: string,
    done: (error: unknown, key?: string | Buffer) => void,
  ) => void;
  algorithms: string[];
  issuer: string;
  audience: string;
  jsonWebTokenOptions: { clockTolerance: number };
  ignoreExpiration: boolean;
  passReqToCallback: true;
}

// passport-jwt's class under a type of our own: the shipped .d.ts files then never name
// passport-jwt, whose types (@types/passport-jwt) a host does not have.
const Strategy = PassportJwtStrategy as unknown as new (
  options: BearerStrategyOptions,
  verify: (...args: never[]) => void,
) => { name: string; authenticate(request: Request, options?: object): void };

/**
 * passport-jwt strategy for bearer access tokens: pinned algorithm, issuer, audience and `typ`,
 * keys by `kid` from our key ring (parsed once at boot). The revocation check follows in the
 * guard, for remembered tokens as for new ones.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'nest-refresh-auth-jwt') {
  constructor(private readonly accessTokens: AccessTokenService) {
    super({
      // One bearer parser for the guard and for logout: RFC 6750, exactly `Bearer <token>`.
      jwtFromRequest: (request: Request) => bearerToken(request) ?? null,
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
      passReqToCallback: true,
    });
  }

  validate(request: Request, claims: unknown): AuthUser {
    return this.accessTokens.accept(bearerToken(request)!, claims);
  }
}
