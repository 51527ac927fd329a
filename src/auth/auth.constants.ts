/** Injection token of the validated {@link AuthConfig} (see `resolveAuthOptions`). */
export const AUTH_CONFIG = Symbol('AUTH_CONFIG');

/** Injection token of the `routes` extra, every flag filled in. */
export const AUTH_ROUTES = Symbol('AUTH_ROUTES');
