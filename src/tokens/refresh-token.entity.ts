import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * Refresh tokens of the first format (`<id>.<secret>`), one row per rotation. Nothing writes
 * here any more: the rows of sessions that began before the upgrade stay so that their tokens
 * (and reuse of their ancestors) are still recognised, and go with their sessions.
 */
@Entity('refresh_tokens')
export class RefreshToken {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Index()
  @Column({ name: 'session_id', type: 'varchar', length: 36 })
  sessionId!: string;

  @Column({ name: 'parent_id', type: 'varchar', length: 36, nullable: true })
  parentId!: string | null;

  /** Hex SHA-256 of the whole token string. */
  @Column({ name: 'token_hash', type: 'varchar', length: 64 })
  tokenHash!: string;

  @Column({ name: 'created_at', type: Date })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: Date })
  expiresAt!: Date;

  @Column({ name: 'used_at', type: Date, nullable: true })
  usedAt!: Date | null;

  @Column({ name: 'replaced_by_id', type: 'varchar', length: 36, nullable: true })
  replacedById!: string | null;

  @Column({ name: 'successor_salt', type: 'varchar', length: 64, nullable: true })
  successorSalt!: string | null;
}
