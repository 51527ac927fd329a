import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { AuthError } from '../common/auth.error.js';
import { ConfigError } from '../config/config.error.js';
import { isUniqueViolation } from '../common/database-errors.js';
import { PasswordHasher } from './password-hasher.service.js';
import { User } from './user.entity.js';

/** Role every new account gets. */
export const DEFAULT_ROLE = 'user';

/** Accounts: registration, credential checks, password changes. */
@Injectable()
export class UsersService {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly hasher: PasswordHasher,
  ) {}

  /** Creates an account; `email_taken` when the email exists. Emails are trimmed and lower-cased. */
  async register(
    email: string,
    password: string,
    name: string | null,
    roles: string[] = [DEFAULT_ROLE],
  ): Promise<User> {
    const now = new Date();
    const user = this.users.create({
      id: randomUUID(),
      email: normalizeEmail(email),
      passwordHash: await this.hasher.hash(password),
      name,
      roles,
      createdAt: now,
      passwordChangedAt: now,
    });
    try {
      await this.users.insert(user);
    } catch (error) {
      if (isUniqueViolation(error)) throw new AuthError('email_taken');
      throw error;
    }
    return user;
  }

  /**
   * Whether the password is the account's. With no account it spends the same time on a decoy
   * hash, so an unknown email and a wrong password cannot be told apart.
   */
  async verifyPassword(user: User | null, password: string): Promise<boolean> {
    return user ? this.hasher.verify(user.passwordHash, password) : this.hasher.verifyDecoy(password);
  }

  /** The account with this id, or `null`. */
  findById(id: string): Promise<User | null> {
    return this.users.findOneBy({ id });
  }

  /** The account with this email, or `null`. */
  findByEmail(email: string): Promise<User | null> {
    return this.users.findOneBy({ email: normalizeEmail(email) });
  }

  /** The argon2id hash of a new password, to store with {@link storePasswordHash}. */
  hashPassword(password: string): Promise<string> {
    return this.hasher.hash(password);
  }

  /** Stores a new password hash. */
  async storePasswordHash(userId: string, passwordHash: string): Promise<void> {
    await this.users.update({ id: userId }, { passwordHash, passwordChangedAt: new Date() });
  }

  /** Whether the account still has the password hash it had when `user` was read. */
  async passwordUnchanged(user: User): Promise<boolean> {
    const current = await this.users.findOne({ select: { id: true, passwordHash: true }, where: { id: user.id } });
    return current?.passwordHash === user.passwordHash;
  }

  /**
   * Makes sure the admin account exists. An existing account is made admin only when
   * `password` is its password: registration is open, so anyone could have taken the address
   * first, and silently promoting their account would hand them the admin role.
   */
  async ensureAdmin(email: string, password: string): Promise<void> {
    const existing = await this.findByEmail(email);
    if (!existing) {
      await this.register(email, password, 'Administrator', [DEFAULT_ROLE, 'admin']).catch((error: unknown) => {
        // Another instance made it at the same moment.
        if (!(error instanceof AuthError && error.code === 'email_taken')) throw error;
      });
    } else if (!existing.roles.includes('admin')) {
      if (!(await this.hasher.verify(existing.passwordHash, password))) {
        throw new ConfigError(
          'ADMIN_EMAIL',
          'an account with this email exists and ADMIN_PASSWORD is not its password; refusing to make it admin',
        );
      }
      await this.users.update({ id: existing.id }, { roles: [...existing.roles, 'admin'] });
    }
  }
}

/**
 * Trims and lower-cases an email, as every endpoint that takes one does.
 *
 * @example normalizeEmail('  Ann@Example.COM ') // 'ann@example.com'
 */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
