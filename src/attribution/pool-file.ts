/**
 * Pools added through `POST /api/v1/admin/pools`, kept in `<data dir>/cost-pools.json` so that a
 * restart keeps them. pertoken.yaml stays the source of truth replicas share; this file is for a
 * single server's run-time additions (written atomically: temp file + rename).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { poolsSchema, type GpuPoolConfig } from '../config/index.js';
import { PertokenError } from '../errors.js';

export interface PoolPersistence {
  load(): Promise<GpuPoolConfig[]>;
  save(pools: readonly GpuPoolConfig[]): Promise<void>;
}

export const RUNTIME_POOLS_FILE = 'cost-pools.json';

export function poolFile(dataDir: string): PoolPersistence {
  const path = join(dataDir, RUNTIME_POOLS_FILE);
  return {
    async load() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw new PertokenError('config_invalid', `cannot read ${path}: ${String(err)}`, { param: path });
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new PertokenError('config_invalid', `${path} is not valid JSON`, { param: path });
      }
      const parsed = poolsSchema.safeParse((json as { pools?: unknown } | null)?.pools);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new PertokenError('config_invalid', `${path}: ${issue?.message ?? 'invalid'}`, {
          param: `${path}:pools.${issue?.path.join('.') ?? ''}`,
        });
      }
      return parsed.data;
    },
    async save(pools) {
      await mkdir(dataDir, { recursive: true });
      const tmp = `${path}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify({ version: 1, pools }, null, 2) + '\n');
      await rename(tmp, path);
    },
  };
}
