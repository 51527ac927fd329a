/** The authenticated caller, from a verified access token; what `@CurrentUser()` returns. */
export interface AuthUser {
  /** User id (`sub`). */
  id: string;
  /** Session id (`sid`): the login this token belongs to. */
  sessionId: string;
  roles: string[];
  scopes: string[];
  /** Token id (`jti`). */
  tokenId: string;
  /** Issued at, seconds since the epoch (`iat`). */
  issuedAt: number;
  /** Expiry, seconds since the epoch (`exp`). */
  expiresAt: number;
}
