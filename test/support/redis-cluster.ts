import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createClient } from 'redis';
import { waitUntil } from './auth-helpers.js';
import { freePort, OwnRedis } from './redis-helpers.js';

const run = promisify(execFile);

/** One `redis-cli` command against a node; its output. */
async function cli(port: number, ...args: string[]): Promise<string> {
  return (await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args])).stdout;
}

/**
 * A Redis Cluster of a test's own: three masters (no replicas) on free loopback ports, each
 * with its node file in a temp folder, joined by `redis-cli --cluster create`; no persistence.
 */
export class OwnRedisCluster {
  private constructor(
    readonly nodes: OwnRedis[],
    private readonly dir: string,
  ) {}

  /** Starts `masters` nodes and creates the cluster; resolves once every node reports `cluster_state:ok`. */
  static async start(masters = 3): Promise<OwnRedisCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'nra-redis-cluster-'));
    const nodes: OwnRedis[] = [];
    const cluster = new OwnRedisCluster(nodes, dir);
    try {
      for (let i = 0; i < masters; i++) {
        const port = await freePort();
        nodes.push(
          await OwnRedis.start({
            port,
            args: [
              '--cluster-enabled',
              'yes',
              '--cluster-config-file',
              join(dir, `nodes-${port}.conf`),
              '--dir',
              dir,
              // Our cluster has no replicas: a node briefly unreachable must not stop the others.
              '--cluster-require-full-coverage',
              'no',
            ],
          }),
        );
      }
      const addresses = nodes.map((node) => node.address);
      await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes']);
      await cluster.waitUntilOk();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** Kills every node at once (SIGKILL); their node files stay, so {@link restart} brings the same cluster back. */
  async kill(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.kill()));
  }

  /** Starts every node that is down again (empty: no persistence) and waits until the cluster is ok. */
  async restart(): Promise<void> {
    await Promise.all(this.nodes.filter((node) => !node.running).map((node) => node.restart()));
    await this.waitUntilOk();
  }

  private async waitUntilOk(): Promise<void> {
    const ok = await waitUntil(
      async () => {
        const infos = await Promise.all(this.nodes.map((node) => cli(node.port, 'CLUSTER', 'INFO').catch(() => '')));
        return infos.every(
          (info) =>
            /cluster_state:ok/.test(info) && /cluster_known_nodes:(\d+)/.exec(info)?.[1] === String(this.nodes.length),
        );
      },
      20_000,
      100,
    );
    if (ok < 0) throw new Error('the Redis Cluster did not become ready');
  }

  /** `REDIS_CLUSTER_NODES`: every node as `host:port`, comma-separated. */
  get nodeList(): string {
    return this.nodes.map((node) => node.address).join(',');
  }

  /** Keys starting with `prefix` on every node (SCAN on each master). */
  async countKeys(prefix: string): Promise<number> {
    let count = 0;
    for (const node of this.nodes) {
      const client = createClient({ url: node.url });
      await client.connect();
      try {
        for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) count += keys.length;
      } finally {
        await client.close();
      }
    }
    return count;
  }

  /** Kills every node and removes the folder. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.kill()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A Sentinel deployment of a test's own: one master and one sentinel watching it under `name`
 * (`redis-server <conf> --sentinel`: there is no redis-sentinel binary here).
 */
export class OwnRedisSentinel {
  private constructor(
    readonly master: OwnRedis,
    readonly sentinel: OwnRedis,
    readonly name: string,
    private readonly dir: string,
  ) {}

  /** Starts the master and the sentinel; resolves once the sentinel names the master. */
  static async start(name = 'nra-master'): Promise<OwnRedisSentinel> {
    const dir = mkdtempSync(join(tmpdir(), 'nra-redis-sentinel-'));
    const master = await OwnRedis.start();
    let sentinel: OwnRedis | undefined;
    try {
      const port = await freePort();
      const config = join(dir, 'sentinel.conf');
      // The sentinel rewrites its file as it learns; it must be writable and its own.
      writeFileSync(
        config,
        [
          `sentinel monitor ${name} 127.0.0.1 ${master.port} 1`,
          `sentinel down-after-milliseconds ${name} 5000`,
          `sentinel failover-timeout ${name} 60000`,
          `dir ${dir}`,
          '',
        ].join('\n'),
      );
      sentinel = await OwnRedis.start({ port, args: [config, '--sentinel'], readyLine: 'Sentinel ID is' });
      const known = await waitUntil(
        async () =>
          (await cli(port, 'SENTINEL', 'get-master-addr-by-name', name).catch(() => '')).includes(String(master.port)),
        10_000,
        100,
      );
      if (known < 0) throw new Error('the sentinel did not learn its master');
    } catch (error) {
      await sentinel?.kill();
      await master.kill();
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    return new OwnRedisSentinel(master, sentinel, name, dir);
  }

  /** `REDIS_SENTINELS`: the sentinel as `host:port`. */
  get sentinels(): string {
    return this.sentinel.address;
  }

  /** Kills the sentinel and the master and removes the folder. */
  async stop(): Promise<void> {
    await this.sentinel.kill();
    await this.master.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
