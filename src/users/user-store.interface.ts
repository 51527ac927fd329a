/** A user as the library needs it, from the host's store or the built-in `users` table. */
export interface AuthUserRecord {
  id: string;
  /** As stored; lookups pass it trimmed and lower-cased. */
  email: string;
  /** Made by the library (an argon2id PHC string); `null`: no password login. */
  passwordHash: string | null;
  roles: string[];
  /** Granted to this user's sessions; default: the module's `defaultScopes`. */
  scopes?: string[];
  passwordChangedAt?: Date | null;
  /** `true`: login (403 `account_disabled`) and refresh (401 `refresh_token_revoked`) are refused. */
  disabled?: boolean;
}

/**
 * Where users live: implement it over the host's own table, or leave the `users` option out for
 * the built-in TypeORM `users` table. The store never sees a plain password, a token or a token
 * hash.
 *
 * @example AuthModule.forRootAsync({ inject: [AccountsUserStore], useFactory: (users) => ({ users, jwt }) })
 */
export interface UserStore {
  /** The user with this email (given trimmed and lower-cased), or `null`. */
  findByEmail(email: string): Promise<AuthUserRecord | null>;
  /** The user with this id, or `null` (deleted). */
  findById(id: string): Promise<AuthUserRecord | null>;
  /** Creates a user; a taken email throws {@link EmailTakenError} (or lets the database's unique violation through). */
  create(input: { email: string; passwordHash: string; name: string | null }): Promise<AuthUserRecord>;
  /** Stores a new password hash. */
  updatePassword(id: string, passwordHash: string, changedAt: Date): Promise<void>;
}

/** Injection token of the {@link UserStore} in use. */
export const UserStore = Symbol('UserStore');

/**
 * Thrown by a {@link UserStore}'s `create` for an email that is taken; answered 409 `email_taken`.
 *
 * @example if (await this.accounts.existsBy({ email })) throw new EmailTakenError();
 */
export class EmailTakenError extends Error {
  constructor() {
    super('Email is already registered');
    this.name = 'EmailTakenError';
  }
}
