import { describe, expect, it } from 'vitest';
import { PertokenError } from '../errors.js';
import { billingAccountId, parseConfig } from './index.js';

const parse = (billing_accounts: unknown[]) => parseConfig({ billing_accounts });

/** The one line a bad config prints (param and message). */
function failure(billing_accounts: unknown[]): string {
  try {
    parse(billing_accounts);
  } catch (err) {
    if (err instanceof PertokenError) return err.toLine();
    throw err;
  }
  return 'no error';
}

describe('billing_accounts', () => {
  it('maps OpenAI projects, Anthropic workspaces (null = the default one) and FOCUS accounts', () => {
    const accounts = parse([
      { provider: 'openai', project_id: 'proj_abc', tenant: 'acme', project: 'search' },
      { provider: 'anthropic', workspace_id: 'wrkspc_01', tenant: 'acme', project: 'support' },
      { provider: 'anthropic', workspace_id: null, tenant: 'acme' },
      { provider: 'aws', account_id: '111122223333', tenant: 'platform' },
    ]).billing_accounts;
    expect(accounts.map(billingAccountId)).toEqual(['proj_abc', 'wrkspc_01', 'wrkspc_default', '111122223333']);
    expect(parseConfig({}).billing_accounts).toEqual([]);
  });

  it('names the bad field: the wrong id kind, a missing id, a duplicate account, a bad tenant', () => {
    expect(failure([{ provider: 'openai', workspace_id: 'w', tenant: 'acme' }])).toMatch(
      /billing_accounts\[0\]\.project_id.*required for provider openai/s,
    );
    expect(failure([{ provider: 'aws', tenant: 'acme' }])).toMatch(/billing_accounts\[0\]\.account_id/);
    expect(
      failure([
        { provider: 'anthropic', workspace_id: null, tenant: 'a' },
        { provider: 'anthropic', workspace_id: 'wrkspc_default', tenant: 'b' },
      ]),
    ).toMatch(/billing_accounts\[1\].*duplicate billing account "anthropic\/wrkspc_default"/s);
    expect(failure([{ provider: 'openai', project_id: 'p', tenant: 'bad tenant!' }])).toMatch(
      /billing_accounts\[0\]\.tenant/,
    );
  });
});
