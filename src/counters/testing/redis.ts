/**
 * The test Redis: PERTOKEN_TEST_REDIS_URL or redis://127.0.0.1:6379. Under CI=true it is
 * required (an unreachable Redis fails the run); elsewhere its cases are skipped with a visible
 * message. Each test file uses its own key prefix and deletes its keys at the end.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const TEST_REDIS_URL = process.env.PERTOKEN_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let availability: Promise<string | null> | undefined;

/** Null when Redis answers PING; otherwise why Redis cases are skipped. Throws under CI. */
export function redisSkipReason(): Promise<string | null> {
  availability ??= ping(TEST_REDIS_URL).then((ok) => {
    if (ok) return null;
    const message = `Redis at ${new URL(TEST_REDIS_URL).host} is unreachable`;
    if (process.env.CI === 'true') throw new Error(`${message}; CI=true requires it`);
    console.warn(`\n  !! ${message}: SKIPPING the Redis counters cases\n`);
    return `${message} (skipped)`;
  });
  return availability;
}

async function ping(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

export function uniquePrefix(label: string): string {
  return `pertoken-test:${label}:${process.pid}:${randomBytes(4).toString('hex')}:`;
}

/** A plain client for inspecting and cleaning test keys. */
export function rawClient(): Redis {
  const client = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  return client;
}

/** Deletes every key under `prefix` through a connection of its own; returns how many there were. */
export async function deletePrefix(prefix: string): Promise<number> {
  const client = rawClient();
  try {
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) deleted += await client.del(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    client.disconnect();
  }
}
