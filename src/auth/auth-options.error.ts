/**
 * A wrong or weak `AuthModule` option, found at boot. `option` is its path (`jwt.privateKey`),
 * so the message says what to fix; the standalone service turns it into the environment
 * variable's name.
 *
 * @example throw new AuthOptionsError('jwt.secret', 'must be at least 32 bytes for HS256');
 */
export class AuthOptionsError extends Error {
  constructor(
    readonly option: string,
    readonly reason: string,
  ) {
    super(`AuthModule option "${option}" ${reason}`);
    this.name = 'AuthOptionsError';
  }
}
