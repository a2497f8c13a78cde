import { Command } from 'commander';
import { PertokenError } from '../errors.js';
import { renderTable } from '../output.js';
import {
  adminClient,
  cell,
  intFlag,
  rangeQuery,
  withAdminFlags,
  withRangeFlags,
  type AdminFlags,
  type RangeFlags,
} from './admin-client.js';
import { processIo, type CliIo, type Env } from './ledger-store.js';

const FLAGS = {
  id: '<id>',
  tenant: '--tenant',
  name: '--name',
  rpm: '--rpm',
  tpm: '--tpm',
  from: '--from',
  to: '--to',
};

interface OwnerFlags extends AdminFlags {
  name?: string;
  rpm?: string;
  tpm?: string;
}

function limits(f: OwnerFlags): Record<string, unknown> {
  return {
    ...(f.name ? { name: f.name } : {}),
    ...(f.rpm !== undefined ? { rpm: intFlag(f.rpm, '--rpm', 1) } : {}),
    ...(f.tpm !== undefined ? { tpm: intFlag(f.tpm, '--tpm', 1) } : {}),
  };
}

const table = (rows: Array<Record<string, unknown>>, columns: string[]): string =>
  renderTable(
    columns,
    rows.map((r) => columns.map((c) => cell(r[c]))),
  );

/** `pertoken tenants create|list|project|projects|audit` over the admin API of a running server. */
export function tenantsCommand(io: CliIo = processIo(), env: Env = process.env): Command {
  const api = adminClient(io, env);
  const tenants = new Command('tenants').description(
    'tenants and their projects (with RPM/TPM limits), and the admin audit log',
  );

  tenants.addCommand(
    withAdminFlags(new Command('create'), env)
      .description('create or update a tenant')
      .argument('<id>', 'tenant id')
      .option('--name <name>', 'display name')
      .option('--rpm <n>', 'requests per minute for the whole tenant')
      .option('--tpm <n>', 'tokens per minute for the whole tenant')
      .action(async (id: string, f: OwnerFlags) => {
        const saved = await api.call(f, 'POST', '/api/v1/admin/tenants', { id, ...limits(f) }, { flags: FLAGS });
        api.print(f.format, saved, () => table([saved], ['id', 'name', 'rpm', 'tpm', 'updated_at']));
      }),
  );
  tenants.addCommand(
    withAdminFlags(new Command('list'), env)
      .description('list tenants')
      .action(async (f: AdminFlags) => {
        const listed = await api.call(f, 'GET', '/api/v1/admin/tenants');
        api.print(f.format, listed, () =>
          table(listed.tenants as Array<Record<string, unknown>>, ['id', 'name', 'rpm', 'tpm', 'origin']),
        );
      }),
  );
  tenants.addCommand(
    withAdminFlags(new Command('project'), env)
      .description('create or update a project of a tenant')
      .argument('<id>', 'project id (unique across tenants)')
      .requiredOption('--tenant <id>', 'owning tenant')
      .option('--name <name>', 'display name')
      .option('--rpm <n>', 'requests per minute for the project')
      .option('--tpm <n>', 'tokens per minute for the project')
      .action(async (id: string, f: OwnerFlags & { tenant: string }) => {
        const saved = await api.call(
          f,
          'POST',
          '/api/v1/admin/projects',
          { id, tenant: f.tenant, ...limits(f) },
          { flags: FLAGS },
        );
        api.print(f.format, saved, () => table([saved], ['id', 'tenant', 'name', 'rpm', 'tpm']));
      }),
  );
  tenants.addCommand(
    withAdminFlags(new Command('projects'), env)
      .description('list projects')
      .option('--tenant <id>', 'only this tenant')
      .action(async (f: AdminFlags & { tenant?: string }) => {
        const listed = await api.call(
          f,
          'GET',
          `/api/v1/admin/projects${f.tenant ? `?tenant=${encodeURIComponent(f.tenant)}` : ''}`,
        );
        api.print(f.format, listed, () =>
          table(listed.projects as Array<Record<string, unknown>>, ['id', 'tenant', 'name', 'rpm', 'tpm', 'origin']),
        );
      }),
  );
  tenants.addCommand(
    withRangeFlags(withAdminFlags(new Command('audit'), env))
      .description('the append-only log of admin changes (who, what, before/after)')
      .action(async (f: AdminFlags & RangeFlags) => {
        const log = await api.call(f, 'GET', `/api/v1/admin/audit${rangeQuery(f)}`, undefined, { flags: FLAGS });
        const entries = log.entries as Array<Record<string, unknown>> | undefined;
        if (!entries) throw new PertokenError('upstream_error', 'the server sent no audit entries', { param: '--url' });
        api.print(f.format, log, () => table(entries, ['time', 'actor', 'action', 'target', 'target_id']));
      }),
  );
  return tenants;
}
