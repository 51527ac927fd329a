import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** Kinds of entries in a user's security log. */
export type SecurityEventType =
  | 'register'
  | 'login'
  | 'login_failed'
  | 'refresh_token_reused'
  | 'logout'
  | 'logout_all'
  | 'session_revoked'
  | 'password_changed'
  | 'admin_revoked';

/** One entry of a user's security log. */
@Entity('security_events')
@Index(['userId', 'id'])
@Index(['createdAt'])
export class SecurityEvent {
  /** Increasing, so it orders the log and serves as the pagination cursor. */
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ name: 'user_id', type: 'varchar', length: 255 })
  userId!: string;

  @Column({ type: 'varchar', length: 40 })
  type!: SecurityEventType;

  @Column({ name: 'session_id', type: 'varchar', length: 36, nullable: true })
  sessionId!: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip!: string | null;

  @Column({ name: 'user_agent', type: 'varchar', length: 512, nullable: true })
  userAgent!: string | null;

  @Column({ name: 'created_at', type: Date })
  createdAt!: Date;
}
