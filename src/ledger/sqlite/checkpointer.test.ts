import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LedgerStore } from '../kysely-store.js';
import { makeEvent, tempDir } from '../testing/fixtures.js';
import { WalCheckpointer } from './checkpointer.js';
import { createSqliteStore, openSqliteDatabase } from './store.js';

/** WAL checkpoints on a worker thread: the committing connection never runs one itself. */

let dir: string;
let cleanup: () => void;
let path: string;
const closers: Array<() => Promise<void> | void> = [];

beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  path = join(dir, 'ledger.db');
});

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  cleanup();
});

/** The store's own worker waits a minute between checkpoints: the tests run them when they choose. */
async function openStore(): Promise<LedgerStore> {
  const store = createSqliteStore({ path, checkpointIntervalMs: 60_000 });
  closers.push(() => store.close());
  await store.migrate();
  return store;
}

/** One commit per event, as a quiet gateway makes them. */
async function writeEvents(store: LedgerStore, round: number, count: number): Promise<void> {
  for (let i = 0; i < count; i++)
    await store.settle(makeEvent({ id: `r${round}-e${i}`, raw_usage: { pad: 'x'.repeat(2000) } }));
}

const walBytes = (): number => statSync(`${path}-wal`).size;

describe('WalCheckpointer', () => {
  it('moves auto-checkpoint off the committing connection and copies the WAL from its worker', async () => {
    const store = await openStore();
    const probe = openSqliteDatabase({ path });
    closers.push(() => void probe.close());
    await writeEvents(store, 0, 300);
    // The writer never checkpointed: every frame written so far is still only in the WAL...
    const before = probe.pragma('wal_checkpoint(NOOP)', { simple: false }) as Array<{
      log: bigint;
      checkpointed: bigint;
    }>;
    expect(Number(before[0]!.log)).toBeGreaterThan(1000); // past SQLite's auto-checkpoint threshold
    // ...until the worker's checkpoint (forced here rather than waited for) copies all of it.
    const checkpointer = new WalCheckpointer(probe, { path, intervalMs: 60_000 });
    closers.push(() => checkpointer.close());
    const result = await checkpointer.checkpoint();
    expect(result.busy).toBe(false);
    expect(result.checkpointedFrames).toBe(result.walFrames);
    expect(await store.getEvent('r0-e299')).not.toBeNull();
  });

  it('keeps the WAL bounded: after a full checkpoint the next commits reuse it from the start', async () => {
    const store = await openStore();
    const probe = openSqliteDatabase({ path });
    closers.push(() => void probe.close());
    const checkpointer = new WalCheckpointer(probe, { path, intervalMs: 60_000 });
    closers.push(() => checkpointer.close());
    await writeEvents(store, 0, 200);
    await checkpointer.checkpoint();
    const afterFirstRound = walBytes();
    for (let round = 1; round <= 4; round++) {
      await writeEvents(store, round, 200);
      const result = await checkpointer.checkpoint();
      expect(result.checkpointedFrames).toBe(result.walFrames);
    }
    // Four more rounds of the same size: the file was rewound, not appended to.
    expect(walBytes()).toBeLessThanOrEqual(afterFirstRound * 1.5);
  });

  it('bounds the WAL: past inlineCheckpointFrames the committing connection checkpoints what is left', async () => {
    const database = openSqliteDatabase({ path });
    closers.push(() => void database.close());
    // The worker never runs here (a minute between checkpoints): the inline checkpoint alone must
    // keep the WAL short. Without it 300 commits of a 2-page row each would pass 600 frames.
    const checkpointer = new WalCheckpointer(database, { path, intervalMs: 60_000, inlineCheckpointFrames: 200 });
    closers.push(() => checkpointer.close());
    expect(database.pragma('wal_autocheckpoint', { simple: true })).toBe(200n);
    database.exec('create table filler (body blob)');
    const insert = database.prepare('insert into filler values (?)');
    for (let i = 0; i < 300; i++) insert.run(Buffer.alloc(6000, i));
    const [{ log }] = database.pragma('wal_checkpoint(NOOP)') as [{ log: bigint }];
    expect(Number(log)).toBeLessThan(300);
  });

  it('falls back to auto-checkpoint and reports the failure when the worker cannot start', async () => {
    const database = openSqliteDatabase({ path });
    closers.push(() => void database.close());
    const broken = join(dir, 'broken-driver.cjs');
    writeFileSync(broken, "throw new Error('driver missing');\n");
    const failures: Error[] = [];
    const failed = new Promise<void>((resolve) => {
      const checkpointer = new WalCheckpointer(database, {
        path,
        driver: broken,
        onError: (err) => (failures.push(err), resolve()),
      });
      closers.push(() => checkpointer.close());
    });
    expect(database.pragma('wal_autocheckpoint', { simple: true })).toBe(32768n);
    await failed;
    expect(failures[0]?.message).toMatch(/WAL checkpoint worker failed.*driver missing/);
    expect(database.pragma('wal_autocheckpoint', { simple: true })).toBe(1000n);
  });

  it('is not started for in-memory ledgers or when checkpoints are inline', async () => {
    const inline = createSqliteStore({ path, checkpoint: 'inline' });
    closers.push(() => inline.close());
    await inline.migrate();
    const probe = openSqliteDatabase({ path });
    closers.push(() => void probe.close());
    await writeEvents(inline, 0, 300);
    // Inline: SQLite's own auto-checkpoint ran inside the commits, so the WAL was rewound.
    const [{ log }] = probe.pragma('wal_checkpoint(NOOP)') as [{ log: bigint }];
    expect(Number(log)).toBeLessThan(1100);
    const memory = createSqliteStore({ path: ':memory:' });
    closers.push(() => memory.close());
    await memory.migrate();
    await memory.settle(makeEvent({ id: 'm1' }));
    expect(await memory.getEvent('m1')).not.toBeNull();
  });
});
