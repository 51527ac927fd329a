import { Logger } from '@nestjs/common';
import type { ResolvedRedis } from '../auth/auth-options.js';

/** A command that takes longer fails, so a hung Redis cannot stall a request. */
export const REDIS_COMMAND_TIMEOUT_MS = 500;
/** How long start-up waits for Redis before serving without it (it keeps reconnecting). */
const CONNECT_WAIT_MS = 2000;
/** Keeps an idle connection checked, so a dead peer is noticed without waiting for a request. */
const PING_INTERVAL_MS = 5000;
/**
 * After a command went unanswered, how long every command fails at once (callers fall back)
 * before one is tried again: a hung Redis costs each request nothing, not a timeout each.
 */
const UNANSWERED_PAUSE_MS = 1000;

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
  /** Channels asked for while the subscribing connection was not up: subscribed once it is. */
  private readonly pending = new Map<string, (message: string) => void>();
  private closed = false;
  /** What failed since Redis last answered, each logged once. */
  private readonly failures = new Set<string>();
  /** `performance.now()` until which commands fail at once, after one went unanswered. */
  private pausedUntil = 0;

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
    client.on('error', (error: unknown) => connection.reportError(error));
    client.on('ready', () => connection.reportReady());
    const connected = connection.keepConnecting(client).then((up) => {
      if (up && config.kind !== 'single') void connection.subscribePending().catch(() => undefined);
      return up;
    });
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

  /** Whether commands can be sent now (connected, and not paused after an unanswered command). */
  get ready(): boolean {
    return this.client.isReady === true && performance.now() >= this.pausedUntil;
  }

  /** Runs a Lua script; every key must share one hash tag (`{…}`) for a cluster. */
  async eval(script: string, keys: string[], args: Array<string | number>): Promise<unknown> {
    if (!this.ready) throw new Error('Redis is not connected');
    return this.bounded(() => this.commands.eval(script, { keys, arguments: args.map(String) }));
  }

  /** Publishes a message on a channel of every node (classic pub/sub is cluster-wide). */
  async publish(channel: string, message: string): Promise<void> {
    if (!this.ready) throw new Error('Redis is not connected');
    await this.bounded(() => this.commands.publish(channel, message));
  }

  /**
   * Listens on a channel. The subscription survives reconnects (node-redis resubscribes); what
   * was published while it was down is lost, which is why the callers never rely on it alone.
   * Asked for while Redis is unreachable (start-up included), it is made once Redis is up, and
   * this rejects meanwhile to say so; it never waits for Redis.
   */
  async subscribe(channel: string, listener: (message: string) => void): Promise<void> {
    this.pending.set(channel, listener);
    if (this.config.kind === 'single' && !this.subscriber) {
      // A subscribed connection takes no other commands: it gets a connection of its own, which
      // node-redis keeps (re)connecting; its first connection makes the pending subscriptions.
      this.subscriber = this.client.duplicate();
      this.subscriber.on('error', () => undefined);
      const connected = this.keepConnecting(this.subscriber).then(async (up) => {
        if (up) await this.subscribePending().catch(() => undefined);
      });
      // Up in a moment when Redis is (then waited for, as start-up waits for the client).
      if (this.client.isReady) {
        await Promise.race([connected, new Promise((resolve) => setTimeout(resolve, CONNECT_WAIT_MS).unref())]);
      }
    }
    await this.subscribePending();
    if (this.pending.has(channel)) throw new Error('Redis is not connected; subscribing once it is');
  }

  /** Whether the subscription connection is up now. */
  get subscribed(): boolean {
    return this.config.kind === 'single' ? this.subscriber?.isReady === true : this.ready;
  }

  /** Whether Redis answers a PING now; for `/health`. */
  async ping(): Promise<boolean> {
    if (!this.ready) return false;
    try {
      const reply = await this.bounded(() =>
        this.config.kind === 'cluster'
          ? this.commands.sendCommand(undefined, true, ['PING'])
          : this.config.kind === 'sentinel'
            ? this.commands.sendCommand(true, ['PING'])
            : this.commands.ping(),
      );
      return reply === 'PONG';
    } catch {
      return false;
    }
  }

  /**
   * `app.close()`: Nest calls it on this provider of AuthModule after the providers that use it,
   * so a host's process can end by itself once the app is closed.
   */
  onApplicationShutdown(): Promise<void> {
    return this.close();
  }

  /** Closes every connection; gives up waiting after a second. */
  async close(): Promise<void> {
    this.closed = true;
    const closeOne = async (client: AnyRedis) => {
      if (!client?.isOpen) return;
      const closing = client.close().catch(() => undefined);
      const timer = new Promise((resolve) => setTimeout(resolve, 1000).unref());
      if ((await Promise.race([closing.then(() => 'closed'), timer])) !== 'closed') await client.destroy?.();
    };
    await Promise.all([closeOne(this.subscriber), closeOne(this.client)]);
  }

  /**
   * Connects a client, and again after a failed attempt (node-redis retries by itself only once
   * connected: a Cluster or Sentinel group unreachable at start-up would stay unconnected for
   * good); resolves `true` once connected, `false` if closed first.
   */
  private async keepConnecting(client: AnyRedis): Promise<boolean> {
    for (let attempt = 0; !this.closed; attempt++) {
      try {
        await client.connect();
        if (!this.closed) return true;
        await client.destroy?.();
        return false;
      } catch (error) {
        this.reportError(error);
        // Open after all (a concurrent connect, or one that retries by itself): nothing to redo.
        if (client.isOpen) return client.isReady === true;
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** Math.min(attempt, 5), 2000)).unref());
      }
    }
    return false;
  }

  /** Subscribes the pending channels, if the subscribing connection is up. */
  private async subscribePending(): Promise<void> {
    const target = this.config.kind === 'single' ? this.subscriber : this.client;
    if (!target?.isReady) return;
    for (const [channel, listener] of this.pending) {
      // From the moment it is sent node-redis owns the subscription (and renews it on reconnect).
      this.pending.delete(channel);
      // Bounded like a command: a hung Redis must not hold up start-up.
      await this.bounded(() => target.subscribe(channel, listener));
    }
  }

  /**
   * Runs a command under a deadline of our own. node-redis's `timeout` covers a command only
   * until it is written: one written to a peer that stopped answering (a hung server, a network
   * that drops packets) would wait forever, and the request with it. The command itself is left
   * to complete or fail with its connection; Redis is treated as unreachable for a moment.
   */
  private async bounded<T>(command: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.pausedUntil = performance.now() + UNANSWERED_PAUSE_MS;
        const error = new Error(`no answer within ${REDIS_COMMAND_TIMEOUT_MS} ms`);
        this.reportError(error);
        reject(error);
      }, REDIS_COMMAND_TIMEOUT_MS);
    });
    try {
      const result = await Promise.race([command(), deadline]);
      this.reportReady();
      return result;
    } finally {
      clearTimeout(timer);
    }
  }

  private reportError(error: unknown): void {
    // One line per distinct failure of an outage, not one per reconnect attempt (the clients
    // report several in turn); node-redis's Sentinel client also emits plain strings.
    const message = error instanceof Error ? error.message : String(error);
    if (this.failures.has(message) || this.failures.size >= 20) return;
    this.logger.warn(`unavailable: ${message}; serving without it`);
    this.failures.add(message);
  }

  private reportReady(): void {
    if (this.failures.size > 0) this.logger.log('reconnected');
    this.failures.clear();
  }
}
