import type { CookieOptions, Request, Response } from 'express';
import { AuthError } from '../common/auth.error.js';
import type { AuthConfig } from './auth-options.js';
import type { TokenResponse } from './auth.service.js';
import { readCookies, RefreshTokenTransport } from './refresh-token-transport.js';

/** The parts of an Express request the transport reads: parsed cookies, headers, the matched route. */
function request(
  cookies: Record<string, string> = {},
  headers: Record<string, string> = {},
  routePath = '/auth/login',
): Request {
  const lowered = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
  return {
    cookies,
    headers: lowered,
    route: { path: routePath },
    // Like Express, header names are case-insensitive.
    get(name: string): string | undefined {
      return lowered[name.toLowerCase()];
    },
  } as unknown as Request;
}

/** The parts of an Express response the transport uses, recording every cookie call. */
class FakeResponse {
  readonly set: Array<{ name: string; value: string; options: CookieOptions }> = [];
  readonly cleared: Array<{ name: string; options: CookieOptions }> = [];

  cookie(name: string, value: string, options: CookieOptions): this {
    this.set.push({ name, value, options });
    return this;
  }

  clearCookie(name: string, options: CookieOptions): this {
    this.cleared.push({ name, options });
    return this;
  }

  asResponse(): Response {
    return this as unknown as Response;
  }
}

function tokens(): TokenResponse {
  return {
    access_token: 'access.jwt.value',
    token_type: 'Bearer',
    expires_in: 900,
    refresh_token: 'refresh-token-value',
    refresh_expires_in: 1_209_600,
    session_id: 's1',
  };
}

function transport(cookieSecure = true, path?: string): RefreshTokenTransport {
  return new RefreshTokenTransport({ cookie: { secure: cookieSecure, path } } as AuthConfig);
}

function rejection(read: () => unknown): AuthError {
  try {
    read();
  } catch (error) {
    if (error instanceof AuthError) return error;
    throw error;
  }
  throw new Error('the token was accepted');
}

const CSRF = 'csrf-token-value';
const browserCookies = { refresh_token: 'cookie-refresh-token', csrf_token: CSRF };

describe('RefreshTokenTransport', () => {
  describe('read', () => {
    const subject = transport();

    it("takes the body's token, not the cookie's, even when both are present", () => {
      const req = request(browserCookies);
      expect(subject.read(req, 'body-refresh-token')).toEqual({ token: 'body-refresh-token', viaCookie: false });
    });

    it('answers undefined with neither a body token nor a cookie', () => {
      expect(subject.read(request(), undefined)).toBeUndefined();
      expect(subject.read(request({ csrf_token: CSRF }, { 'X-CSRF-Token': CSRF }), undefined)).toBeUndefined();
    });

    it('refuses a cookie token without an X-CSRF-Token header', () => {
      const error = rejection(() => subject.read(request(browserCookies), undefined));
      expect(error).toMatchObject({ code: 'csrf_failed', status: 403 });
    });

    it('refuses a cookie token whose X-CSRF-Token header does not match the cookie', () => {
      const wrong = request(browserCookies, { 'X-CSRF-Token': 'csrf-token-valuf' });
      expect(rejection(() => subject.read(wrong, undefined)).code).toBe('csrf_failed');
      const shorter = request(browserCookies, { 'X-CSRF-Token': 'csrf' });
      expect(rejection(() => subject.read(shorter, undefined)).code).toBe('csrf_failed');
    });

    it('refuses a cookie token when the csrf_token cookie is missing', () => {
      const noCsrfCookie = request({ refresh_token: 'cookie-refresh-token' }, { 'X-CSRF-Token': CSRF });
      expect(rejection(() => subject.read(noCsrfCookie, undefined)).code).toBe('csrf_failed');
    });

    it('accepts a cookie token with the matching X-CSRF-Token header', () => {
      const req = request(browserCookies, { 'X-CSRF-Token': CSRF });
      expect(subject.read(req, undefined)).toEqual({ token: 'cookie-refresh-token', viaCookie: true });
    });
  });

  describe('send', () => {
    it('leaves the body as is in body mode and sets no cookie', () => {
      const response = new FakeResponse();
      const body = tokens();
      const sent = transport().send(request(), response.asResponse(), body);
      expect(sent).toBe(body);
      expect(sent.refresh_token).toBe('refresh-token-value');
      expect(response.set).toEqual([]);
      expect(response.cleared).toEqual([]);
    });

    it('leaves the body as is for a token that came in the body', () => {
      const response = new FakeResponse();
      const body = tokens();
      const sent = transport().send(request(), response.asResponse(), body, { token: 't', viaCookie: false });
      expect(sent).toBe(body);
      expect(response.set).toEqual([]);
    });

    it.each([
      ['asked for with X-Token-Transport: cookie', request({}, { 'X-Token-Transport': 'cookie' }), undefined],
      ['asked for in any case', request({}, { 'X-Token-Transport': 'Cookie' }), undefined],
      ['the token came by cookie', request(), { token: 'cookie-refresh-token', viaCookie: true }],
    ])('moves the refresh token into an HttpOnly cookie when %s', (_label, req, presented) => {
      const response = new FakeResponse();
      const body = tokens();
      const sent = transport().send(req, response.asResponse(), body, presented);

      const { refresh_token: _moved, ...rest } = tokens();
      expect(sent).toEqual(rest);
      expect('refresh_token' in sent).toBe(false);
      // The caller's object is left alone.
      expect(body.refresh_token).toBe('refresh-token-value');

      expect(response.set.map((call) => call.name)).toEqual(['refresh_token', 'csrf_token']);
      const [refresh, csrf] = response.set;
      expect(refresh!.value).toBe('refresh-token-value');
      expect(refresh!.options).toMatchObject({
        httpOnly: true,
        sameSite: 'strict',
        path: '/auth',
        secure: true,
        maxAge: 1_209_600 * 1000,
      });
      expect(csrf!.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(csrf!.options).toMatchObject({
        httpOnly: false,
        sameSite: 'strict',
        path: '/',
        secure: true,
        maxAge: 1_209_600 * 1000,
      });
    });

    it('gives every response a fresh CSRF token', () => {
      const first = new FakeResponse();
      const second = new FakeResponse();
      const req = request({}, { 'X-Token-Transport': 'cookie' });
      transport().send(req, first.asResponse(), tokens());
      transport().send(req, second.asResponse(), tokens());
      expect(first.set[1]!.value).not.toBe(second.set[1]!.value);
    });

    it.each([
      [undefined, true],
      [true, true],
      [false, false],
    ])('sets Secure on both cookies per cookieSecure=%p', (cookieSecure, secure) => {
      const response = new FakeResponse();
      transport(cookieSecure).send(request({}, { 'X-Token-Transport': 'cookie' }), response.asResponse(), tokens());
      expect(response.set.map((call) => call.options.secure)).toEqual([secure, secure]);
    });

    it('sets no cookie when the body has no refresh token', () => {
      const response = new FakeResponse();
      const { refresh_token: _none, ...body } = tokens();
      const sent = transport().send(request({}, { 'X-Token-Transport': 'cookie' }), response.asResponse(), body);
      expect(sent).toBe(body);
      expect(response.set).toEqual([]);
    });
  });

  describe('clear', () => {
    it.each([true, false])('clears both cookies on the paths they were set on (cookieSecure=%p)', (cookieSecure) => {
      const subject = transport(cookieSecure);
      const setting = new FakeResponse();
      subject.send(request({}, { 'X-Token-Transport': 'cookie' }), setting.asResponse(), tokens());
      const clearing = new FakeResponse();
      subject.clear(request({}, {}, '/auth/logout'), clearing.asResponse());

      expect(clearing.set).toEqual([]);
      expect(clearing.cleared.map((call) => call.name)).toEqual(['refresh_token', 'csrf_token']);
      const [refresh, csrf] = clearing.cleared;
      expect(refresh!.options).toMatchObject({ path: '/auth', httpOnly: true, sameSite: 'strict' });
      expect(csrf!.options).toMatchObject({ path: '/', httpOnly: false, sameSite: 'strict' });
      // A browser only drops a cookie whose path (and Secure flag) match the one it holds.
      for (const [index, call] of clearing.cleared.entries()) {
        expect(call.options.path).toBe(setting.set[index]!.options.path);
        expect(call.options.secure).toBe(setting.set[index]!.options.secure);
      }
    });
  });

  describe('mount path', () => {
    it('sets the refresh cookie on the folder the routes are mounted in', () => {
      const response = new FakeResponse();
      transport().send(
        request({}, { 'X-Token-Transport': 'cookie' }, '/api/v1/auth/login'),
        response.asResponse(),
        tokens(),
      );
      expect(response.set[0]).toMatchObject({ name: 'refresh_token', options: { path: '/api/v1/auth' } });
      expect(response.set[1]).toMatchObject({ name: 'csrf_token', options: { path: '/' } });
    });

    it('uses the cookie.path option when set', () => {
      const response = new FakeResponse();
      transport(true, '/custom').send(
        request({}, { 'X-Token-Transport': 'cookie' }, '/api/auth/login'),
        response.asResponse(),
        tokens(),
      );
      expect(response.set[0]!.options.path).toBe('/custom');
    });
  });

  describe('readCookies without cookie-parser', () => {
    it('parses the Cookie header, decoding values and keeping the first of a repeated name', () => {
      const raw = {
        headers: { cookie: 'a=1; refresh_token=x%2Ey; csrf_token="q"; a=2; bad=%E0%A4%A' },
      } as unknown as Request;
      expect(readCookies(raw)).toEqual({ a: '1', refresh_token: 'x.y', csrf_token: 'q', bad: '%E0%A4%A' });
      expect(readCookies({ headers: {} } as unknown as Request)).toEqual({});
    });
  });
});
