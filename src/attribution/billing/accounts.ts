/**
 * billing_accounts: provider account -> pertoken tenant/project. A line of an account nobody
 * mapped keeps tenant and project null: it is stored and counted as unmapped, never dropped, so
 * reconciliation can still show what the bill holds that no tenant owns.
 */
import { billingAccountId, type BillingAccountConfig } from '../../config/index.js';
import type { BillingLine } from './rows.js';

export interface Owner {
  tenant: string | null;
  project: string | null;
}

const UNMAPPED: Owner = { tenant: null, project: null };

export class AccountMap {
  readonly #owners = new Map<string, Owner>();

  constructor(accounts: readonly BillingAccountConfig[]) {
    for (const a of accounts)
      this.#owners.set(`${a.provider}\u0000${billingAccountId(a)}`, { tenant: a.tenant, project: a.project ?? null });
  }

  /** The account's owner, else (FOCUS) its billing account's owner, else unmapped. */
  ownerOf(line: BillingLine): Owner {
    const own = this.#owners.get(`${line.provider}\u0000${line.account_id}`);
    if (own !== undefined) return own;
    if (line.parent_account_id === undefined) return UNMAPPED;
    return this.#owners.get(`${line.provider}\u0000${line.parent_account_id}`) ?? UNMAPPED;
  }
}
