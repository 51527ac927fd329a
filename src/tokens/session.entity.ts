import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Why a session ended before its expiry; kept for the audit trail. */
export type SessionRevokedReason =
  | 'logout'
  | 'logout_all'
  | 'session_revoked'
  | 'password_changed'
  | 'admin_revoked'
  | 'refresh_token_reused'
  | 'oauth_revoked'
  | 'user_removed';

/**
 * One login: a refresh-token family with an idle and an absolute expiry. The family's state is
 * two hashes whatever the number of rotations: the live token's and its immediate
 * predecessor's (for the grace window); older generations are recognised by their tag under
 * `tokenKey` (see `refresh-token.format.ts`).
 */
@Entity('sessions')
export class Session {
  /** The login's `session_id`, and the `sid` claim of its access tokens. */
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Index()
  @Column({ name: 'user_id', type: 'varchar', length: 255 })
  userId!: string;

  /** Space-separated scopes granted to this session's access tokens (re-read at each refresh). */
  @Column({ type: 'varchar', length: 1000 })
  scope!: string;

  @Column({ name: 'created_at', type: Date })
  createdAt!: Date;

  @Column({ name: 'last_used_at', type: Date })
  lastUsedAt!: Date;

  /** Idle expiry: slides on each rotation, never past `expiresAt`. */
  @Column({ name: 'idle_expires_at', type: Date })
  idleExpiresAt!: Date;

  /** Absolute expiry, fixed at login (shortened if the user gains a role with a shorter lifetime). */
  @Column({ name: 'expires_at', type: Date })
  expiresAt!: Date;

  @Index()
  @Column({ name: 'revoked_at', type: Date, nullable: true })
  revokedAt!: Date | null;

  @Column({ name: 'revoked_reason', type: 'varchar', length: 40, nullable: true })
  revokedReason!: SessionRevokedReason | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip!: string | null;

  @Column({ name: 'user_agent', type: 'varchar', length: 512, nullable: true })
  userAgent!: string | null;

  /** Generation of the live refresh token: 0 at login, +1 per rotation. */
  @Column({ type: 'integer', default: 0 })
  generation!: number;

  /** SHA-256 (hex) of the live refresh token. */
  @Column({ name: 'token_hash', type: 'varchar', length: 64, nullable: true })
  tokenHash!: string | null;

  /** SHA-256 of the token the live one replaced, answered within the grace window. */
  @Column({ name: 'previous_token_hash', type: 'varchar', length: 64, nullable: true })
  previousTokenHash!: string | null;

  /** When the previous token was rotated: the grace window starts here. */
  @Column({ name: 'rotated_at', type: Date, nullable: true })
  rotatedAt!: Date | null;

  /** The salt from which, with the previous token's secret, the live token's secret was derived. */
  @Column({ name: 'successor_salt', type: 'varchar', length: 64, nullable: true })
  successorSalt!: string | null;

  /** Random per-session HMAC key (hex) tagging the session's refresh tokens. */
  @Column({ name: 'token_key', type: 'varchar', length: 64 })
  tokenKey!: string;

  /** For sessions from before the upgrade: the id of their live token in the first format. */
  @Index()
  @Column({ name: 'legacy_token_id', type: 'varchar', length: 36, nullable: true })
  legacyTokenId!: string | null;
}
