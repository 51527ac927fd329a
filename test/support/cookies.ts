import type { Response } from 'supertest';

/** One `Set-Cookie` header taken apart; attribute names are lower-cased, flags map to `true`. */
export interface SetCookie {
  name: string;
  value: string;
  attributes: Record<string, string | true>;
  /** The header as sent, for failure messages. */
  raw: string;
}

/** Every `Set-Cookie` header of a response, by cookie name (a later header for a name wins). */
export function setCookies(response: Response): Record<string, SetCookie> {
  const header = response.headers['set-cookie'] as string[] | string | undefined;
  const lines = header === undefined ? [] : Array.isArray(header) ? header : [header];
  const cookies: Record<string, SetCookie> = {};
  for (const raw of lines) {
    const [pair = '', ...parts] = raw.split(';').map((part) => part.trim());
    const equals = pair.indexOf('=');
    const name = pair.slice(0, equals);
    const attributes: Record<string, string | true> = {};
    for (const part of parts) {
      const at = part.indexOf('=');
      if (at < 0) attributes[part.toLowerCase()] = true;
      else attributes[part.slice(0, at).toLowerCase()] = part.slice(at + 1);
    }
    cookies[name] = { name, value: decodeURIComponent(pair.slice(equals + 1)), attributes, raw };
  }
  return cookies;
}

/** A `Cookie` request header from name/value pairs. */
export function cookieHeader(cookies: Record<string, string>): string {
  return Object.entries(cookies)
    .map(([name, value]) => `${name}=${encodeURIComponent(value)}`)
    .join('; ');
}

/** Whether a `Set-Cookie` expires the cookie at once (`Max-Age=0` or an `Expires` in the past). */
export function isCleared(cookie: SetCookie): boolean {
  const maxAge = cookie.attributes['max-age'];
  if (typeof maxAge === 'string' && Number(maxAge) <= 0) return true;
  const expires = cookie.attributes['expires'];
  return typeof expires === 'string' && Date.parse(expires) <= Date.now();
}
