import { randomBytes } from 'node:crypto';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import argon2 from 'argon2';

/** argon2id hashing of passwords, with a decoy for unknown accounts. */
@Injectable()
export class PasswordHasher implements OnModuleInit {
  private decoy?: Promise<string>;

  /** Makes the decoy hash at start-up, so even the first unknown-email login takes normal time. */
  onModuleInit(): void {
    this.decoy = this.hash(randomBytes(32).toString('base64url'));
  }

  /** An argon2id hash (library defaults: 64 MiB, 3 passes) with its parameters encoded. */
  hash(password: string): Promise<string> {
    return argon2.hash(password, { type: argon2.argon2id });
  }

  /** Whether the password matches the hash; false for a malformed hash. */
  async verify(hash: string, password: string): Promise<boolean> {
    try {
      return await argon2.verify(hash, password);
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
    await this.verify(await this.decoy, password);
    return false;
  }
}
