import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';

/** What `validate` puts on `request.user`. */
export interface DocsPatternUser {
  userId: string;
  username: string;
}

/**
 * The strategy as the NestJS authentication recipe writes it: the bearer header, expiry
 * checked, a string secret (HS256), the payload trusted once the signature is.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy) {
  constructor() {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      ignoreExpiration: false,
      secretOrKey: process.env.JWT_SECRET ?? 'docs-pattern-secret-of-at-least-32-bytes',
    });
  }

  validate(payload: { sub: string; username: string }): DocsPatternUser {
    return { userId: payload.sub, username: payload.username };
  }
}
