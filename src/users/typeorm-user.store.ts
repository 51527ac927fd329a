import { randomUUID } from 'node:crypto';
import type { DataSource, Repository } from 'typeorm';
import { isUniqueViolation } from '../common/database-errors.js';
import { rawDriver, type RawDriver } from '../database/raw-driver.js';
import { asDate } from '../tokens/postgres-session.store.js';
import type { OwnerJoin } from '../tokens/session-store.interface.js';
import { fromSqliteDate } from '../tokens/sqlite-session.store.js';
import { User } from './user.entity.js';
import { EmailTakenError, type AuthUserRecord, type UserStore } from './user-store.interface.js';

const COLUMNS = 'id, email, password_hash, name, roles, scopes, disabled, created_at, password_changed_at';

/** Role every account of the built-in store starts with. */
export const DEFAULT_ROLE = 'user';

/**
 * The built-in {@link UserStore}: the `users` table (entities `USER_ENTITIES`, migrations
 * `USER_MIGRATIONS`), used when the `users` option is left out, as the standalone service does.
 *
 * @example new TypeOrmUserStore(dataSource.getRepository(User))
 */
export class TypeOrmUserStore implements UserStore {
  /** Reads go straight to the connection TypeORM opened: a refresh reads the user every time. */
  private readonly driver: RawDriver | null;
  /** How the driver's rows carry timestamps. */
  private readonly date: (value: unknown) => Date | null;
  private readonly statements = new Map<string, { get(...params: unknown[]): unknown }>();

  constructor(private readonly users: Repository<User>) {
    this.driver = rawDriver(users.manager.connection);
    this.date = this.driver?.kind === 'sqlite' ? fromSqliteDate : asDate;
  }

  async findByEmail(email: string): Promise<AuthUserRecord | null> {
    return this.findOne('email', email);
  }

  async findById(id: string): Promise<AuthUserRecord | null> {
    return this.findOne('id', id);
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

  /**
   * How the session store reads a refresh's user with its session, in one statement, when this
   * store's table is in `dataSource` (the same database); `null` otherwise.
   */
  ownerJoin(dataSource: DataSource): OwnerJoin | null {
    const driver = this.driver;
    if (!driver || this.users.manager.connection !== dataSource) return null;
    const columns = COLUMNS.split(', ');
    return {
      select: columns.map((column) => `u.${column} AS owner_${column}`).join(', '),
      join: 'LEFT JOIN users u ON u.id = s.user_id',
      read: (row) => {
        if (row.owner_id === null || row.owner_id === undefined) return null;
        return fromRow(Object.fromEntries(columns.map((column) => [column, row[`owner_${column}`]])), this.date);
      },
    };
  }

  /** One row by primary or unique key, read without TypeORM's query building (a prepared statement). */
  private async findOne(column: 'id' | 'email', value: string): Promise<AuthUserRecord | null> {
    const driver = this.driver;
    if (!driver) return toRecord(await this.users.findOneBy({ [column]: value }));
    if (driver.kind === 'postgres') {
      const { rows } = await driver.pool.query({
        name: `nra_user_by_${column}`,
        text: `SELECT ${COLUMNS} FROM users WHERE ${column} = $1`,
        values: [value],
      });
      return rows[0] ? fromRow(rows[0], this.date) : null;
    }
    let statement = this.statements.get(column);
    if (!statement) {
      statement = driver.db.prepare(`SELECT ${COLUMNS} FROM users WHERE ${column} = ?`);
      this.statements.set(column, statement);
    }
    const row = statement.get(value) as Record<string, unknown> | undefined;
    return row ? fromRow(row, this.date) : null;
  }
}

/** A `users` row as the driver returns it; `simple-array` columns are comma-joined text. */
function fromRow(row: Record<string, unknown>, date: (value: unknown) => Date | null): BuiltInUserRecord {
  const list = (value: unknown) => (typeof value === 'string' && value !== '' ? value.split(',') : []);
  const scopes = list(row.scopes);
  return {
    id: row.id as string,
    email: row.email as string,
    passwordHash: (row.password_hash as string | null) ?? null,
    roles: list(row.roles),
    ...(scopes.length > 0 ? { scopes } : {}),
    passwordChangedAt: date(row.password_changed_at),
    disabled: row.disabled === true || row.disabled === 1,
    name: (row.name as string | null) ?? null,
    createdAt: date(row.created_at)!,
  };
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
