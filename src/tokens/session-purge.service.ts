import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { TokensService } from './tokens.service.js';

const PURGE_INTERVAL_MS = 60 * 60 * 1000;
/** Ended sessions stay a day, for support questions; the security log keeps the history. */
const RETENTION_MS = 24 * 60 * 60 * 1000;

/** Removes ended sessions and their refresh tokens every hour, so the tables do not grow forever. */
@Injectable()
export class SessionPurge implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SessionPurge.name);
  private timer?: NodeJS.Timeout;

  constructor(private readonly tokens: TokensService) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.purge(), PURGE_INTERVAL_MS).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** One pass; failures (database down) wait for the next one. */
  async purge(): Promise<void> {
    try {
      const removed = await this.tokens.purgeEnded(RETENTION_MS);
      if (removed > 0) this.logger.log(`removed ${removed} ended sessions`);
    } catch (error) {
      this.logger.warn(`purge skipped: ${(error as Error).message}`);
    }
  }
}
