import { describeBruteForceAcrossInstances } from './support/brute-force-cases.js';
import { TestContext } from './support/test-context.js';

// Services only (test/redis-*): two instances of one context share one Redis prefix, as replicas do.
// The same cases run on a Redis Cluster and a Sentinel group (redis-cluster, redis-sentinel).
describeBruteForceAcrossInstances('Redis', async (name) => ({ context: await TestContext.create(name), env: {} }));
