import { Command } from 'commander';
import { renderTable } from '../output.js';
import { adminClient, cell, intFlag, listFlag, withAdminFlags, type AdminFlags } from './admin-client.js';
import { processIo, type CliIo, type Env } from './ledger-store.js';

const KEY_FLAGS = {
  tenant: '--tenant',
  project: '--project',
  name: '--name',
  scopes: '--scopes',
  models: '--models',
  expires_at: '--expires',
  rpm: '--rpm',
  tpm: '--tpm',
  id: '--id',
  grace_seconds: '--grace',
};

interface CreateFlags extends AdminFlags {
  tenant: string;
  project?: string;
  name?: string;
  id?: string;
  scopes?: string;
  models?: string;
  expires?: string;
  rpm?: string;
  tpm?: string;
}

function keyRows(keys: Array<Record<string, unknown>>): string {
  return renderTable(
    ['id', 'tenant', 'project', 'name', 'status', 'scopes', 'models', 'rpm', 'tpm', 'expires_at'],
    keys.map((k) =>
      [k.id, k.tenant, k.project, k.name, k.status, k.scopes, k.models, k.rpm, k.tpm, k.expires_at].map(cell),
    ),
  );
}

/** `pertoken keys create|list|rotate|revoke` over the admin API of a running server. */
export function keysCommand(io: CliIo = processIo(), env: Env = process.env): Command {
  const api = adminClient(io, env);
  const keys = new Command('keys').description('virtual keys: create (shown once), list, rotate, revoke');

  keys.addCommand(
    withAdminFlags(new Command('create'), env)
      .description('create a key; its value is printed this once, only its hash is kept')
      .requiredOption('--tenant <id>', 'tenant the key belongs to')
      .option('--project <id>', 'project of that tenant')
      .option('--name <name>', 'a label')
      .option('--id <id>', 'key id (default: generated)')
      .option('--scopes <list>', 'comma list of chat,completions,responses,embeddings,messages,read')
      .option('--models <globs>', 'comma list of allowed model globs, e.g. "gpt-4o*,claude-*"')
      .option('--expires <iso>', 'expiry instant, e.g. 2027-01-01T00:00:00Z')
      .option('--rpm <n>', 'requests per minute')
      .option('--tpm <n>', 'tokens per minute')
      .action(async (f: CreateFlags) => {
        const body = {
          tenant: f.tenant,
          ...(f.project ? { project: f.project } : {}),
          ...(f.name ? { name: f.name } : {}),
          ...(f.id ? { id: f.id } : {}),
          ...(f.scopes !== undefined ? { scopes: listFlag(f.scopes) } : {}),
          ...(f.models !== undefined ? { models: listFlag(f.models) } : {}),
          ...(f.expires ? { expires_at: f.expires } : {}),
          ...(f.rpm !== undefined ? { rpm: intFlag(f.rpm, '--rpm', 1) } : {}),
          ...(f.tpm !== undefined ? { tpm: intFlag(f.tpm, '--tpm', 1) } : {}),
        };
        const created = await api.call(f, 'POST', '/api/v1/admin/keys', body, { flags: KEY_FLAGS });
        api.print(
          f.format,
          created,
          () => `${keyRows([created])}\nkey (shown once, store it now):\n${String(created.key)}\n`,
        );
      }),
  );

  keys.addCommand(
    withAdminFlags(new Command('list'), env)
      .description('list keys (never their values)')
      .option('--tenant <id>', 'only this tenant')
      .action(async (f: AdminFlags & { tenant?: string }) => {
        const listed = await api.call(
          f,
          'GET',
          `/api/v1/admin/keys${f.tenant ? `?tenant=${encodeURIComponent(f.tenant)}` : ''}`,
          undefined,
          { flags: KEY_FLAGS },
        );
        api.print(f.format, listed, () => keyRows(listed.keys as Array<Record<string, unknown>>));
      }),
  );

  keys.addCommand(
    withAdminFlags(new Command('rotate'), env)
      .description('issue a new value; the old one keeps working for the grace period')
      .argument('<id>', 'key id')
      .option('--grace <seconds>', 'how long the old value stays valid (server default: 86400)')
      .action(async (id: string, f: AdminFlags & { grace?: string }) => {
        const grace = intFlag(f.grace, '--grace');
        const rotated = await api.call(
          f,
          'POST',
          `/api/v1/admin/keys/${encodeURIComponent(id)}/rotate`,
          grace === undefined ? {} : { grace_seconds: grace },
          { flags: { ...KEY_FLAGS, id: '<id>' } },
        );
        api.print(
          f.format,
          rotated,
          () =>
            `${keyRows([rotated])}\nold value valid until: ${cell(rotated.previous_valid_until) ?? '-'}\nnew key (shown once, store it now):\n${String(rotated.key)}\n`,
        );
      }),
  );

  keys.addCommand(
    withAdminFlags(new Command('revoke'), env)
      .description('revoke a key at once, on every replica')
      .argument('<id>', 'key id')
      .action(async (id: string, f: AdminFlags) => {
        const revoked = await api.call(f, 'DELETE', `/api/v1/admin/keys/${encodeURIComponent(id)}`, undefined, {
          flags: { id: '<id>' },
        });
        api.print(f.format, revoked, () => keyRows([revoked]));
      }),
  );
  return keys;
}
