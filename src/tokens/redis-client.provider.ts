import { Logger, type Provider } from '@nestjs/common';
import { createClient } from 'redis';
import { AUTH_MODULE_OPTIONS } from '../auth/auth.module-definition.js';
import type { AuthModuleOptions } from '../auth/auth-module-options.interface.js';

/** A connected node-redis client. */
export type RedisClient = Awaited<ReturnType<typeof connectRedis>>;

/** Injection token of the shared Redis client, or `null` when no `REDIS_URL` is configured. */
export const REDIS_CLIENT = Symbol('REDIS_CLIENT');

/** How long start-up waits for Redis before serving without it (it keeps reconnecting). */
const CONNECT_WAIT_MS = 2000;
/** A command that takes longer fails, so a hung Redis cannot stall a request. */
export const REDIS_COMMAND_TIMEOUT_MS = 500;
/** Keeps an idle connection checked, so a dead peer is noticed without waiting for a request. */
const PING_INTERVAL_MS = 5000;

/**
 * Connects to Redis. Commands never queue while Redis is down (`disableOfflineQueue`): they fail
 * at once and callers fall through to the database; the client reconnects in the background.
 *
 * @example const client = await connectRedis('redis://127.0.0.1:6379');
 */
export async function connectRedis(url: string) {
  const logger = new Logger('Redis');
  const client = createClient({
    url,
    disableOfflineQueue: true,
    pingInterval: PING_INTERVAL_MS,
    socket: {
      connectTimeout: CONNECT_WAIT_MS,
      reconnectStrategy: (retries: number) => Math.min(100 * 2 ** Math.min(retries, 5), 2000),
    },
  });
  let lastError = '';
  client.on('error', (error: Error) => {
    // One line per distinct failure, not one per reconnect attempt.
    if (error.message !== lastError) logger.warn(`unavailable: ${error.message}; serving from the database`);
    lastError = error.message;
  });
  client.on('ready', () => {
    if (lastError) logger.log('reconnected');
    lastError = '';
  });
  const connected = client.connect().then(
    () => true,
    () => false,
  );
  await Promise.race([connected, new Promise((resolve) => setTimeout(resolve, CONNECT_WAIT_MS).unref())]);
  return client;
}

/** Provides {@link REDIS_CLIENT} from the module options. */
export const redisClientProvider: Provider = {
  provide: REDIS_CLIENT,
  inject: [AUTH_MODULE_OPTIONS],
  useFactory: (options: AuthModuleOptions) => (options.redis ? connectRedis(options.redis.url) : null),
};
