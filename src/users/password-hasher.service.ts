import { randomBytes } from 'node:crypto';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import argon2 from 'argon2';
import { AUTH_CONFIG } from '../auth/auth.constants.js';
import type { AuthConfig } from '../auth/auth-options.js';
import { Semaphore } from '../common/semaphore.js';
import { AuthMetrics } from '../metrics/auth-metrics.service.js';

/**
 * argon2id hashing of passwords, with a decoy for unknown accounts. Hashes run a few at a time
 * (`passwordHashing.concurrency`, by default one fewer than the cores): a burst of logins waits
 * its turn instead of starving every other request of CPU.
 */
@Injectable()
export class PasswordHasher implements OnModuleInit {
  private decoy?: Promise<string>;
  private readonly slots: Semaphore;
  private readonly options: { type: typeof argon2.argon2id; memoryCost: number; timeCost: number; parallelism: number };

  constructor(
    @Inject(AUTH_CONFIG) config: AuthConfig,
    private readonly metrics: AuthMetrics,
  ) {
    const { memoryCost, timeCost, parallelism, concurrency } = config.passwordHashing;
    this.options = { type: argon2.argon2id, memoryCost, timeCost, parallelism };
    this.slots = new Semaphore(concurrency);
  }

  /** Makes the decoy hash at start-up, so even the first unknown-email login takes normal time. */
  onModuleInit(): void {
    this.decoy = this.hash(randomBytes(32).toString('base64url'));
    this.decoy.catch(() => undefined);
  }

  /** An argon2id PHC string with its parameters encoded. */
  hash(password: string): Promise<string> {
    return this.timed(() => argon2.hash(password, this.options));
  }

  /** Whether the password matches the hash; false for a missing or malformed hash. */
  async verify(hash: string | null, password: string): Promise<boolean> {
    if (hash === null) return this.verifyDecoy(password);
    try {
      return await this.timed(() => argon2.verify(hash, password));
    } catch {
      return false;
    }
  }

  /**
   * Spends the time of a real verification against a hash no password matches, so that a login
   * with an unknown email cannot be told apart from a wrong password by its timing.
   */
  async verifyDecoy(password: string): Promise<false> {
    this.decoy ??= this.hash(randomBytes(32).toString('base64url'));
    const decoy = await this.decoy;
    await this.timed(() => argon2.verify(decoy, password)).catch(() => false);
    return false;
  }

  private timed<T>(work: () => Promise<T>): Promise<T> {
    return this.slots.run(async () => {
      const started = process.hrtime.bigint();
      try {
        return await work();
      } finally {
        this.metrics.passwordHashSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
      }
    });
  }
}
