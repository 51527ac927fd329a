import { Inject, Injectable } from '@nestjs/common';
import { AUTH_MODULE_OPTIONS } from '../auth/auth.module-definition.js';
import type { AuthModuleOptions } from '../auth/auth-module-options.interface.js';
import { RevocationService } from '../tokens/revocation.service.js';

/** Redis status for `/health`: reported, never fatal, since the service works without it. */
@Injectable()
export class RedisHealth {
  constructor(
    @Inject(AUTH_MODULE_OPTIONS) private readonly options: AuthModuleOptions,
    private readonly revocation: RevocationService,
  ) {}

  /** `null` when no Redis is configured (the in-process store is used). */
  async status(): Promise<{ status: 'up' | 'down'; message?: string } | null> {
    if (!this.options.redis) return null;
    return (await this.revocation.ping())
      ? { status: 'up' }
      : { status: 'down', message: 'Redis unreachable: revocations are checked against the database' };
  }
}
