import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AUTH_CONFIG } from '../auth/auth.constants.js';
import type { AuthConfig } from '../auth/auth-options.js';
import { SessionStore } from './session-store.interface.js';

/** How often the clean-up runs (on one instance at a time). */
export const MAINTENANCE_INTERVAL_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Keeps the tables from growing forever: ended sessions go a day after they end (longer if an
 * access token could outlive that), and security-log entries after `securityEventRetention`
 * (default 90 days). Runs hourly; on PostgreSQL an advisory lock makes one instance do it while
 * the others skip.
 */
@Injectable()
export class MaintenanceService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Maintenance');
  private timer?: NodeJS.Timeout;
  private readonly sessionRetentionMs: number;

  constructor(
    @Inject(SessionStore) private readonly store: SessionStore,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {
    // A session's access tokens are checked against the row: it must outlive the last of them.
    this.sessionRetentionMs = Math.max(DAY_MS, (config.accessTokenTtl + config.clockTolerance + 60) * 1000);
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.run(), MAINTENANCE_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** One pass; `null` when another instance holds the lock. Failures (database down) wait for the next one. */
  async run(now = new Date()): Promise<{ sessions: number; events: number } | null> {
    try {
      const result = await this.store.exclusive(() =>
        this.store.purge(
          new Date(now.getTime() - this.sessionRetentionMs),
          new Date(now.getTime() - this.config.securityEventRetention * 1000),
        ),
      );
      if (result && (result.sessions > 0 || result.events > 0)) {
        this.logger.log(`removed ${result.sessions} ended sessions and ${result.events} old security events`);
      }
      return result ?? null;
    } catch (error) {
      this.logger.warn(`clean-up skipped: ${(error as Error).message}`);
      return null;
    }
  }
}
