import { randomUUID } from 'node:crypto';
import type { Repository } from 'typeorm';
import { User } from './user.entity.js';
import { EmailTakenError, type AuthUserRecord, type UserStore } from './user-store.interface.js';
import { isUniqueViolation } from '../common/database-errors.js';

/** Role every account of the built-in store starts with. */
export const DEFAULT_ROLE = 'user';

/**
 * The built-in {@link UserStore}: the `users` table (entities `USER_ENTITIES`, migrations
 * `USER_MIGRATIONS`), used when the `users` option is left out, as the standalone service does.
 *
 * @example new TypeOrmUserStore(dataSource.getRepository(User))
 */
export class TypeOrmUserStore implements UserStore {
  constructor(private readonly users: Repository<User>) {}

  async findByEmail(email: string): Promise<AuthUserRecord | null> {
    return toRecord(await this.users.findOneBy({ email }));
  }

  async findById(id: string): Promise<AuthUserRecord | null> {
    return toRecord(await this.users.findOneBy({ id }));
  }

  async create(input: { email: string; passwordHash: string; name: string | null }): Promise<AuthUserRecord> {
    const now = new Date();
    const user = this.users.create({
      id: randomUUID(),
      email: input.email,
      passwordHash: input.passwordHash,
      name: input.name,
      roles: [DEFAULT_ROLE],
      scopes: null,
      disabled: false,
      createdAt: now,
      passwordChangedAt: now,
    });
    try {
      await this.users.insert(user);
    } catch (error) {
      if (isUniqueViolation(error)) throw new EmailTakenError();
      throw error;
    }
    return toRecord(user)!;
  }

  async updatePassword(id: string, passwordHash: string, changedAt: Date): Promise<void> {
    await this.users.update({ id }, { passwordHash, passwordChangedAt: changedAt });
  }

  /** Adds a role to an account (the service's admin bootstrap). */
  async grantRole(id: string, role: string): Promise<void> {
    const user = await this.users.findOneBy({ id });
    if (user && !user.roles.includes(role)) await this.users.update({ id }, { roles: [...user.roles, role] });
  }

  /** Sets an account's scopes; `null` returns it to the module's `defaultScopes`. */
  async setScopes(id: string, scopes: string[] | null): Promise<void> {
    await this.users.update({ id }, { scopes });
  }

  /** Disables or re-enables an account. Ending its live sessions is `AuthService.revokeUserSessions`. */
  async setDisabled(id: string, disabled: boolean): Promise<void> {
    await this.users.update({ id }, { disabled });
  }
}

/** What the API shows of a built-in account beyond {@link AuthUserRecord}. */
export interface BuiltInUserRecord extends AuthUserRecord {
  name: string | null;
  createdAt: Date;
}

function toRecord(user: User | null): BuiltInUserRecord | null {
  if (!user) return null;
  return {
    id: user.id,
    email: user.email,
    passwordHash: user.passwordHash,
    roles: user.roles,
    ...(user.scopes && user.scopes.length > 0 ? { scopes: user.scopes } : {}),
    passwordChangedAt: user.passwordChangedAt,
    disabled: user.disabled === true,
    name: user.name,
    createdAt: user.createdAt,
  };
}

/**
 * Trims and lower-cases an email, as every endpoint that takes one does.
 *
 * @example normalizeEmail('  Ann@Example.COM ') // 'ann@example.com'
 */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
