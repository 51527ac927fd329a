import { randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { CookieOptions, Request, Response } from 'express';
import { AuthError } from '../common/auth.error.js';
import type { AuthModuleOptions } from './auth-module-options.interface.js';
import { AUTH_MODULE_OPTIONS } from './auth.module-definition.js';
import type { TokenResponseDto } from './dto/responses.dto.js';

/** Request header that asks for the browser (cookie) transport. */
export const TRANSPORT_HEADER = 'x-token-transport';
/** Request header that must echo the `csrf_token` cookie when the refresh token comes by cookie. */
export const CSRF_HEADER = 'x-csrf-token';
/** HttpOnly cookie holding the refresh token in browser mode. */
export const REFRESH_COOKIE = 'refresh_token';
/** Readable cookie holding the CSRF token in browser mode. */
export const CSRF_COOKIE = 'csrf_token';
/** The refresh cookie is only ever sent to the auth endpoints. */
const REFRESH_COOKIE_PATH = '/auth';

/** Where a refresh token came from: the body (mobile, REST) or the cookie (browser). */
export interface PresentedRefreshToken {
  token: string;
  viaCookie: boolean;
}

/**
 * The two refresh-token transports: body mode, and browser mode where the token lives in an
 * HttpOnly SameSite=Strict cookie guarded by a double-submit CSRF token.
 */
@Injectable()
export class RefreshTokenTransport {
  constructor(@Inject(AUTH_MODULE_OPTIONS) private readonly options: AuthModuleOptions) {}

  /**
   * The refresh token of a request: the body's when there is one, else the cookie's, which
   * then needs an `X-CSRF-Token` header equal to the `csrf_token` cookie (403 `csrf_failed`).
   */
  read(request: Request, bodyToken: string | undefined): PresentedRefreshToken | undefined {
    if (bodyToken !== undefined) return { token: bodyToken, viaCookie: false };
    const cookieToken = cookie(request, REFRESH_COOKIE);
    if (cookieToken === undefined) return undefined;
    const expected = cookie(request, CSRF_COOKIE);
    const given = request.get(CSRF_HEADER);
    if (!expected || !given || !sameString(expected, given)) throw new AuthError('csrf_failed');
    return { token: cookieToken, viaCookie: true };
  }

  /** Whether the answer goes by cookie: asked for with the header, or the token came by cookie. */
  wantsCookie(request: Request, presented?: PresentedRefreshToken): boolean {
    return presented?.viaCookie === true || request.get(TRANSPORT_HEADER)?.toLowerCase() === 'cookie';
  }

  /** In browser mode moves the refresh token from the body into the cookies; else leaves the body as is. */
  send(
    request: Request,
    response: Response,
    body: TokenResponseDto,
    presented?: PresentedRefreshToken,
  ): TokenResponseDto {
    if (!this.wantsCookie(request, presented) || body.refresh_token === undefined) return body;
    const maxAge = body.refresh_expires_in * 1000;
    response.cookie(REFRESH_COOKIE, body.refresh_token, {
      ...this.cookieOptions(REFRESH_COOKIE_PATH),
      httpOnly: true,
      maxAge,
    });
    response.cookie(CSRF_COOKIE, randomBytes(32).toString('base64url'), {
      ...this.cookieOptions('/'),
      httpOnly: false,
      maxAge,
    });
    const { refresh_token: _moved, ...rest } = body;
    return rest;
  }

  /** Expires both cookies (logout). */
  clear(response: Response): void {
    response.clearCookie(REFRESH_COOKIE, { ...this.cookieOptions(REFRESH_COOKIE_PATH), httpOnly: true });
    response.clearCookie(CSRF_COOKIE, { ...this.cookieOptions('/'), httpOnly: false });
  }

  private cookieOptions(path: string): CookieOptions {
    return { secure: this.options.cookieSecure ?? true, sameSite: 'strict', path };
  }
}

function cookie(request: Request, name: string): string | undefined {
  const value = (request.cookies as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function sameString(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
