import type { Request } from 'express';

/** The route pattern a request matched, as mounted: with the global prefix and `RouterModule` path. */
function routePath(request: Request): string | undefined {
  const path = (request.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? path : undefined;
}

/**
 * The folder of the route a request matched: `/api/auth` for `/api/auth/refresh` under the
 * global prefix `api`. `undefined` outside a matched route.
 *
 * @example mountedDirectory(request) // '/api/auth'
 */
export function mountedDirectory(request: Request): string | undefined {
  const path = routePath(request);
  if (!path) return undefined;
  const cut = path.replace(/\/+$/, '').lastIndexOf('/');
  return cut <= 0 ? '/' : path.slice(0, cut);
}

/**
 * What comes before `suffix` in the route a request matched: the mount prefix of our routes
 * (`/api` for `/api/.well-known/oauth-authorization-server`), `''` at the root.
 *
 * @example mountPrefix(request, '/.well-known/oauth-authorization-server') // '/api'
 */
export function mountPrefix(request: Request, suffix: string): string {
  const path = routePath(request) ?? request.path;
  const at = path.toLowerCase().lastIndexOf(suffix.toLowerCase());
  return at > 0 ? path.slice(0, at).replace(/\/+$/, '') : '';
}

/**
 * The origin a client used, as Express sees it through `trust proxy` (`X-Forwarded-Proto`,
 * `X-Forwarded-Host` only from trusted proxies).
 *
 * @example requestOrigin(request) // 'https://api.example.com'
 */
export function requestOrigin(request: Request): string {
  // Express 5's req.host: Host, or X-Forwarded-Host from a trusted proxy; with the port.
  const host = request.host;
  return `${request.protocol}://${host && /^[A-Za-z0-9.\-:[\]]+$/.test(host) ? host : 'localhost'}`;
}
