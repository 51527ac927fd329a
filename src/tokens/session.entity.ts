import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Why a session ended before its expiry; kept for the audit trail. */
export type SessionRevokedReason =
  | 'logout'
  | 'logout_all'
  | 'session_revoked'
  | 'password_changed'
  | 'admin_revoked'
  | 'refresh_token_reused'
  | 'oauth_revoked';

/** One login: a refresh-token family with an idle and an absolute expiry. */
@Entity('sessions')
export class Session {
  /** The login's `session_id`, and the `sid` claim of its access tokens. */
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Index()
  @Column({ name: 'user_id', type: 'varchar', length: 36 })
  userId!: string;

  /** Space-separated scopes granted to this session's access tokens. */
  @Column({ type: 'varchar', length: 1000 })
  scope!: string;

  @Column({ name: 'created_at', type: Date })
  createdAt!: Date;

  @Column({ name: 'last_used_at', type: Date })
  lastUsedAt!: Date;

  /** Idle expiry: slides on each rotation, never past `expiresAt`. */
  @Column({ name: 'idle_expires_at', type: Date })
  idleExpiresAt!: Date;

  /** Absolute expiry, fixed at login. */
  @Column({ name: 'expires_at', type: Date })
  expiresAt!: Date;

  @Column({ name: 'revoked_at', type: Date, nullable: true })
  revokedAt!: Date | null;

  @Column({ name: 'revoked_reason', type: 'varchar', length: 40, nullable: true })
  revokedReason!: SessionRevokedReason | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip!: string | null;

  @Column({ name: 'user_agent', type: 'varchar', length: 512, nullable: true })
  userAgent!: string | null;
}
