import { randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { CookieOptions, Request, Response } from 'express';
import { AuthError } from '../common/auth.error.js';
import { AUTH_CONFIG } from './auth.constants.js';
import type { AuthConfig } from './auth-options.js';
import type { TokenResponse } from './auth.service.js';
import { mountedDirectory } from './mount-path.js';

/** Request header that asks for the browser (cookie) transport. */
export const TRANSPORT_HEADER = 'x-token-transport';
/** Request header that must echo the `csrf_token` cookie when the refresh token comes by cookie. */
export const CSRF_HEADER = 'x-csrf-token';
/** HttpOnly cookie holding the refresh token in browser mode. */
export const REFRESH_COOKIE = 'refresh_token';
/** Readable cookie holding the CSRF token in browser mode. */
export const CSRF_COOKIE = 'csrf_token';

/** Where a refresh token came from: the body (mobile, REST) or the cookie (browser). */
export interface PresentedRefreshToken {
  token: string;
  viaCookie: boolean;
}

/**
 * The two refresh-token transports: body mode, and browser mode where the token lives in an
 * HttpOnly SameSite=Strict cookie guarded by a double-submit CSRF token. The cookie's `Path` is
 * where the auth routes are mounted (`/auth`, or `/api/auth` under a global prefix) unless the
 * `cookie.path` option says otherwise. Cookies are read from the header directly, so the host
 * needs no cookie-parser.
 */
@Injectable()
export class RefreshTokenTransport {
  constructor(@Inject(AUTH_CONFIG) private readonly config: AuthConfig) {}

  /**
   * The refresh token of a request: the body's when there is one, else the cookie's, which
   * then needs an `X-CSRF-Token` header equal to the `csrf_token` cookie (403 `csrf_failed`).
   */
  read(request: Request, bodyToken: string | undefined): PresentedRefreshToken | undefined {
    if (bodyToken !== undefined) return { token: bodyToken, viaCookie: false };
    const cookies = readCookies(request);
    const cookieToken = cookies[REFRESH_COOKIE];
    if (!cookieToken) return undefined;
    const expected = cookies[CSRF_COOKIE];
    const given = request.get(CSRF_HEADER);
    if (!expected || !given || !sameString(expected, given)) throw new AuthError('csrf_failed');
    return { token: cookieToken, viaCookie: true };
  }

  /** Whether the answer goes by cookie: asked for with the header, or the token came by cookie. */
  wantsCookie(request: Request, presented?: PresentedRefreshToken): boolean {
    return presented?.viaCookie === true || request.get(TRANSPORT_HEADER)?.toLowerCase() === 'cookie';
  }

  /** In browser mode moves the refresh token from the body into the cookies; else leaves the body as is. */
  send(request: Request, response: Response, body: TokenResponse, presented?: PresentedRefreshToken): TokenResponse {
    if (!this.wantsCookie(request, presented) || body.refresh_token === undefined) return body;
    const maxAge = body.refresh_expires_in * 1000;
    response.cookie(REFRESH_COOKIE, body.refresh_token, {
      ...this.options(this.refreshPath(request)),
      httpOnly: true,
      maxAge,
    });
    response.cookie(CSRF_COOKIE, randomBytes(32).toString('base64url'), {
      ...this.options('/'),
      httpOnly: false,
      maxAge,
    });
    const { refresh_token: _moved, ...rest } = body;
    return rest;
  }

  /** Expires both cookies (logout). */
  clear(request: Request, response: Response): void {
    response.clearCookie(REFRESH_COOKIE, { ...this.options(this.refreshPath(request)), httpOnly: true });
    response.clearCookie(CSRF_COOKIE, { ...this.options('/'), httpOnly: false });
  }

  /** The refresh cookie's `Path`: the folder of the auth routes as mounted, e.g. `/api/auth`. */
  refreshPath(request: Request): string {
    return this.config.cookie.path ?? mountedDirectory(request) ?? '/auth';
  }

  private options(path: string): CookieOptions {
    return { secure: this.config.cookie.secure, sameSite: 'strict', path };
  }
}

/**
 * The cookies of a request: cookie-parser's result when the host uses it, else parsed from the
 * `Cookie` header here. Values that are not valid percent-encoding are taken as they are.
 *
 * @example readCookies(request).refresh_token
 */
export function readCookies(request: Request): Record<string, string> {
  const parsed = (request as { cookies?: unknown }).cookies;
  if (parsed && typeof parsed === 'object') {
    return Object.fromEntries(
      Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
    );
  }
  const cookies: Record<string, string> = {};
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (!(name in cookies)) {
      try {
        cookies[name] = decodeURIComponent(value);
      } catch {
        cookies[name] = value;
      }
    }
  }
  return cookies;
}

function sameString(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
