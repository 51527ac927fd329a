import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SecurityEventsModule } from '../security-events/security-events.module.js';
import { RefreshToken } from './refresh-token.entity.js';
import { REDIS_CLIENT, redisClientProvider, type RedisClient } from './redis-client.provider.js';
import { revocationStoreProvider } from './revocation-store.providers.js';
import { RevocationService } from './revocation.service.js';
import { SessionPurge } from './session-purge.service.js';
import { Session } from './session.entity.js';
import { TokensService } from './tokens.service.js';

/** Sessions, rotating refresh tokens, and the revocation cache in front of the database. */
@Module({
  imports: [TypeOrmModule.forFeature([Session, RefreshToken]), SecurityEventsModule],
  providers: [redisClientProvider, revocationStoreProvider, RevocationService, TokensService, SessionPurge],
  exports: [TokensService, RevocationService, REDIS_CLIENT],
})
export class TokensModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS_CLIENT) private readonly redis: RedisClient | null) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.redis?.isOpen) await this.redis.close().catch(() => this.redis?.destroy());
  }
}
