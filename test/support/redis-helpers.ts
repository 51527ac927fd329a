import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { createClient } from 'redis';

/** A node-redis client with the default modules. */
type Client = ReturnType<typeof newClient>;

function newClient(url: string) {
  return createClient({ url });
}

/** Runs `fn` with a connected client of the Redis at `url`, closing it afterwards. */
async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = newClient(url);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** How many keys start with `prefix` (SCAN, never KEYS). */
export function countKeys(url: string, prefix: string): Promise<number> {
  return withClient(url, async (client) => {
    let count = 0;
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) count += keys.length;
    return count;
  });
}

/**
 * Deletes every key that starts with `prefix`: what a FLUSHALL does to one deployment, without
 * touching anybody else's keys on a shared Redis.
 */
export function deleteKeys(url: string, prefix: string): Promise<void> {
  return withClient(url, async (client) => {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
      if (keys.length > 0) await client.del(keys);
    }
  });
}

/** A TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no TCP port');
  return address.port;
}

/** Every redis-server a test started and did not stop: killed at exit, even when a file dies early. */
const liveServers = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveServers) child.kill('SIGKILL');
});

/**
 * A throwaway redis-server of a test's own, on a fixed port, that can be killed and started again
 * (empty each time: no RDB, no AOF), like a Redis restarted without persistence.
 */
export class OwnRedis {
  private process: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly extraArgs: readonly string[] = [],
    private readonly readyLine = 'Ready to accept connections',
  ) {}

  /**
   * Starts a redis-server on a free port and waits until it accepts connections; `options.args`
   * are added to its command line (`--cluster-enabled yes`, a config file and `--sentinel`, ...),
   * `options.readyLine` is what it logs once ready (a sentinel logs something else).
   */
  static async start(options: { port?: number; args?: readonly string[]; readyLine?: string } = {}): Promise<OwnRedis> {
    const redis = new OwnRedis(options.port ?? (await freePort()), options.args, options.readyLine);
    await redis.restart();
    return redis;
  }

  /** `host:port` of this server. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** The `redis://` URL of this server. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Whether the server process is running. */
  get running(): boolean {
    return this.process !== undefined && this.process.exitCode === null && this.process.signalCode === null;
  }

  /** Starts the server (again) on the same port and waits until it is ready. */
  async restart(): Promise<void> {
    if (this.running) throw new Error('redis-server is already running');
    // A config file, when given, must come first on the command line.
    const config = this.extraArgs[0]?.startsWith('-') === false ? [this.extraArgs[0]] : [];
    const child = spawn(
      'redis-server',
      [
        ...config,
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'no',
        ...this.extraArgs.slice(config.length),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.process = child;
    liveServers.add(child);
    child.once('exit', () => liveServers.delete(child));
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`redis-server did not start on ${this.port}:\n${output}`));
      }, 10_000);
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes(this.readyLine)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code ?? signal}) before it was ready:\n${output}`));
      });
    });
    child.stdout!.resume();
    child.stderr!.resume();
  }

  /** Kills the server at once (SIGKILL: no shutdown, no goodbye to clients) and waits for it to exit. */
  async kill(): Promise<void> {
    const child = this.process;
    if (!child || !this.running) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
}

/** FLUSHALL on a Redis of the test's own (never the machine's shared one). */
export function flushAll(url: string): Promise<void> {
  return withClient(url, async (client) => {
    await client.flushAll();
  });
}

/**
 * A publisher and a subscriber connection of the test's own on one Redis server (a subscribed
 * connection takes no other commands), for watching and forging channel messages.
 */
export async function openChannelClient(url: string): Promise<{
  publish(channel: string, message: string): Promise<unknown>;
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
  close(): Promise<void>;
}> {
  const publisher = newClient(url);
  const subscriber = newClient(url);
  await Promise.all([publisher.connect(), subscriber.connect()]);
  return {
    publish: (channel, message) => publisher.publish(channel, message),
    subscribe: (channel, listener) => subscriber.subscribe(channel, listener),
    close: async () => {
      await Promise.all([publisher.close(), subscriber.close()]);
    },
  };
}
