import { Column, Entity, PrimaryColumn } from 'typeorm';

/** An account of the built-in user store: an email, an argon2id password hash, roles and scopes. */
@Entity('users')
export class User {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  /** Trimmed and lower-cased; unique. */
  @Column({ type: 'varchar', length: 320, unique: true })
  email!: string;

  /** `null`: the account has no password login. */
  @Column({ name: 'password_hash', type: 'varchar', length: 255, nullable: true })
  passwordHash!: string | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  name!: string | null;

  @Column({ type: 'simple-array' })
  roles!: string[];

  /** Scopes of this user's sessions; `null`: the module's `defaultScopes`. */
  @Column({ type: 'simple-array', nullable: true })
  scopes!: string[] | null;

  /** A disabled account can neither log in nor refresh. */
  @Column({ type: 'boolean', default: false })
  disabled!: boolean;

  @Column({ name: 'created_at', type: Date })
  createdAt!: Date;

  @Column({ name: 'password_changed_at', type: Date })
  passwordChangedAt!: Date;
}
