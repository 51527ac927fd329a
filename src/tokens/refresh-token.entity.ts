import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** One refresh token of a session's family. Only the SHA-256 of the token is stored. */
@Entity('refresh_tokens')
export class RefreshToken {
  /** The id carried in the token itself, used to look the row up. */
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Index()
  @Column({ name: 'session_id', type: 'varchar', length: 36 })
  sessionId!: string;

  /** The token this one replaced; null for the first token of a login. */
  @Column({ name: 'parent_id', type: 'varchar', length: 36, nullable: true })
  parentId!: string | null;

  /** Hex SHA-256 of the whole token string. */
  @Column({ name: 'token_hash', type: 'varchar', length: 64 })
  tokenHash!: string;

  @Column({ name: 'created_at', type: Date })
  createdAt!: Date;

  /** Idle expiry of this token (never past the session's absolute expiry). */
  @Column({ name: 'expires_at', type: Date })
  expiresAt!: Date;

  /** When it was rotated; a live token has none. */
  @Column({ name: 'used_at', type: Date, nullable: true })
  usedAt!: Date | null;

  /** The successor made when this token was rotated. */
  @Column({ name: 'replaced_by_id', type: 'varchar', length: 36, nullable: true })
  replacedById!: string | null;

  /**
   * Random salt from which, with this token's own secret, the successor's secret is derived, so
   * that a replay within the grace window gets the same successor without storing it.
   */
  @Column({ name: 'successor_salt', type: 'varchar', length: 64, nullable: true })
  successorSalt!: string | null;
}
