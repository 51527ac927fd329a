import { Logger } from '@nestjs/common';
import type { ResolvedRedis } from '../auth/auth-options.js';

/** A command that takes longer fails, so a hung Redis cannot stall a request. */
export const REDIS_COMMAND_TIMEOUT_MS = 500;
/** How long start-up waits for Redis before serving without it (it keeps reconnecting). */
const CONNECT_WAIT_MS = 2000;
/** Keeps an idle connection checked, so a dead peer is noticed without waiting for a request. */
const PING_INTERVAL_MS = 5000;

/* eslint-disable @typescript-eslint/no-explicit-any -- node-redis's three client types share these methods untyped here */
type AnyRedis = any;

/**
 * One Redis deployment as the library uses it, whatever its shape: a single server, a
 * Sentinel-watched master, or a Cluster (node-redis `createClient` / `createSentinel` /
 * `createCluster`). Commands never queue while Redis is unreachable: they fail at once (or after
 * {@link REDIS_COMMAND_TIMEOUT_MS}) and callers fall back; the clients reconnect by themselves.
 * Multi-key scripts name keys that share a hash tag, so they stay on one cluster slot.
 *
 * @example const redis = await RedisConnection.open({ kind: 'single', url, keyPrefix: 'nra:' });
 */
export class RedisConnection {
  private subscriber: AnyRedis | null = null;
  private lastError = '';

  private constructor(
    private readonly config: ResolvedRedis,
    private readonly client: AnyRedis,
    private readonly commands: AnyRedis,
    private readonly logger: Logger,
  ) {}

  /** Connects, waiting up to two seconds; a Redis that is down then is retried in the background. */
  static async open(config: ResolvedRedis): Promise<RedisConnection> {
    const redis = (await import('redis')) as AnyRedis;
    const logger = new Logger('Redis');
    const socket = {
      connectTimeout: CONNECT_WAIT_MS,
      reconnectStrategy: (retries: number) => Math.min(100 * 2 ** Math.min(retries, 5), 2000),
    };
    const node = { disableOfflineQueue: true, pingInterval: PING_INTERVAL_MS, socket };
    let client: AnyRedis;
    if (config.kind === 'single') client = redis.createClient({ url: config.url, ...node });
    else if (config.kind === 'sentinel') {
      client = redis.createSentinel({
        name: config.name,
        sentinelRootNodes: config.sentinels,
        nodeClientOptions: { ...node, ...(config.password ? { password: config.password } : {}) },
        sentinelClientOptions: { socket },
      });
    } else {
      client = redis.createCluster({
        rootNodes: config.nodes.map((url) => ({ url })),
        defaults: { ...node, ...(config.password ? { password: config.password } : {}) },
      });
    }
    const connection = new RedisConnection(
      config,
      client,
      client.withCommandOptions({ timeout: REDIS_COMMAND_TIMEOUT_MS }),
      logger,
    );
    client.on('error', (error: Error) => connection.reportError(error));
    client.on('ready', () => connection.reportReady());
    const connected = client.connect().then(
      () => true,
      (error: Error) => {
        connection.reportError(error);
        return false;
      },
    );
    await Promise.race([connected, new Promise((resolve) => setTimeout(resolve, CONNECT_WAIT_MS).unref())]);
    return connection;
  }

  /** Prefix of every key and channel. */
  get keyPrefix(): string {
    return this.config.keyPrefix;
  }

  /** Which kind of deployment this is. */
  get kind(): ResolvedRedis['kind'] {
    return this.config.kind;
  }

  /** Whether commands can be sent now. */
  get ready(): boolean {
    return this.client.isReady === true;
  }

  /** Runs a Lua script; every key must share one hash tag (`{…}`) for a cluster. */
  async eval(script: string, keys: string[], args: Array<string | number>): Promise<unknown> {
    if (!this.ready) throw new Error('Redis is not connected');
    return this.commands.eval(script, { keys, arguments: args.map(String) });
  }

  /** Publishes a message on a channel of every node (classic pub/sub is cluster-wide). */
  async publish(channel: string, message: string): Promise<void> {
    if (!this.ready) throw new Error('Redis is not connected');
    await this.commands.publish(channel, message);
  }

  /**
   * Listens on a channel. The subscription survives reconnects (node-redis resubscribes); what
   * was published while it was down is lost, which is why the callers never rely on it alone.
   */
  async subscribe(channel: string, listener: (message: string) => void): Promise<void> {
    if (this.config.kind === 'single') {
      // A subscribed connection takes no other commands: it gets a connection of its own.
      this.subscriber ??= this.client.duplicate();
      this.subscriber.on('error', () => undefined);
      if (!this.subscriber.isOpen) await this.subscriber.connect().catch(() => undefined);
      await this.subscriber.subscribe(channel, listener);
    } else {
      await this.client.subscribe(channel, listener);
    }
  }

  /** Whether the subscription connection is up now. */
  get subscribed(): boolean {
    return this.config.kind === 'single' ? this.subscriber?.isReady === true : this.ready;
  }

  /** Whether Redis answers a PING now; for `/health`. */
  async ping(): Promise<boolean> {
    if (!this.ready) return false;
    try {
      const reply =
        this.config.kind === 'cluster'
          ? await this.commands.sendCommand(undefined, true, ['PING'])
          : this.config.kind === 'sentinel'
            ? await this.commands.sendCommand(true, ['PING'])
            : await this.commands.ping();
      return reply === 'PONG';
    } catch {
      return false;
    }
  }

  /** Closes every connection; gives up waiting after a second. */
  async close(): Promise<void> {
    const closeOne = async (client: AnyRedis) => {
      if (!client?.isOpen) return;
      const closing = client.close().catch(() => undefined);
      const timer = new Promise((resolve) => setTimeout(resolve, 1000).unref());
      if ((await Promise.race([closing.then(() => 'closed'), timer])) !== 'closed') await client.destroy?.();
    };
    await Promise.all([closeOne(this.subscriber), closeOne(this.client)]);
  }

  private reportError(error: Error): void {
    // One line per distinct failure, not one per reconnect attempt.
    if (error.message !== this.lastError) this.logger.warn(`unavailable: ${error.message}; serving without it`);
    this.lastError = error.message;
  }

  private reportReady(): void {
    if (this.lastError) this.logger.log('reconnected');
    this.lastError = '';
  }
}
