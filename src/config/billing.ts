/**
 * `billing_accounts:` of pertoken.yaml (DESIGN §3 "Billing imports"): which pertoken tenant and
 * project a provider account's bill lines belong to. OpenAI names projects (`project_id`),
 * Anthropic workspaces (`workspace_id`, null for the default workspace: trap T7), and a FOCUS
 * export any other provider's accounts (`account_id`: SubAccountId, else BillingAccountId).
 */
import { z } from 'zod';
import { checkUnique, dimId, name } from './primitives.js';

/** The synthetic id of Anthropic's default workspace, which its reports give as null (trap T7). */
export const DEFAULT_WORKSPACE_ID = 'wrkspc_default';

const accountId = z.string().min(1).max(256);

export const billingAccountSchema = z
  .object({
    provider: name,
    project_id: accountId.optional(),
    workspace_id: accountId.nullable().optional(),
    account_id: accountId.optional(),
    tenant: dimId,
    project: dimId.optional(),
    /** An Admin API key: `pertoken pull` fetches this organisation's usage and cost reports with it. */
    admin_key: z.string().min(1).max(1024).optional(),
    /** The Admin API's base; default the provider's public API (billing/pull.ts). */
    base_url: z.url({ protocol: /^https?$/ }).optional(),
  })
  .strict()
  .superRefine((a, ctx) => {
    if (a.admin_key !== undefined && a.provider !== 'openai' && a.provider !== 'anthropic')
      ctx.addIssue({ code: 'custom', path: ['admin_key'], message: 'only openai and anthropic reports can be pulled' });
    const wanted = a.provider === 'openai' ? 'project_id' : a.provider === 'anthropic' ? 'workspace_id' : 'account_id';
    for (const field of ['project_id', 'workspace_id', 'account_id'] as const) {
      if (field === wanted && a[field] === undefined)
        ctx.addIssue({ code: 'custom', path: [field], message: `required for provider ${a.provider}` });
      if (field !== wanted && a[field] !== undefined)
        ctx.addIssue({ code: 'custom', path: [field], message: `use ${wanted} for provider ${a.provider}` });
    }
  });

export type BillingAccountConfig = z.infer<typeof billingAccountSchema>;

/** The provider's own id of the account: project, workspace (synthetic when default) or account. */
export function billingAccountId(account: BillingAccountConfig): string {
  if (account.provider === 'openai') return account.project_id ?? '';
  if (account.provider === 'anthropic') return account.workspace_id ?? DEFAULT_WORKSPACE_ID;
  return account.account_id ?? '';
}

export const billingSections = {
  billing_accounts: z.array(billingAccountSchema).max(10_000).default([]),
};

/** One mapping per provider account. */
export function checkBilling(
  config: { billing_accounts: readonly BillingAccountConfig[] },
  ctx: z.RefinementCtx,
): void {
  const keyed = config.billing_accounts.map((a) => ({ account: `${a.provider}/${billingAccountId(a)}` }));
  checkUnique(ctx, keyed, ['billing_accounts'], 'account', 'billing account');
}
