import type { Logger } from 'pino';
import type { AlertService } from '../alerts/index.js';
import type { AttributionService } from '../attribution/index.js';
import type { BillingAccountConfig } from '../config/index.js';
import type { Governance } from '../governance/index.js';
import type { Store } from '../ledger/index.js';
import type { PertokenMetrics } from '../metrics/index.js';
import type { PriceBook } from '../pricing/index.js';

/** What the API routes need; built by server.ts. Its own file so that route modules import it, not each other. */
export interface ApiDeps {
  store: Store;
  priceBook: PriceBook;
  metrics: PertokenMetrics;
  log: Logger;
  adminToken: string | null;
  /** `server.metrics_auth` (null: unset) and `server.metrics_token`: who may read /metrics (auth.ts metricsGuard). */
  metricsAuth: boolean | null;
  metricsToken: string | null;
  maxBodyBytes: number;
  now(): Date;
  /** Keys, budgets and the admin API; absent on a bare app (read API guarded by the admin token only). */
  governance?: Governance;
  /** Statements, pools and the FOCUS export; absent when the server was built without them. */
  attribution?: AttributionService;
  /** Alerts, silences and forecasts; absent when the server was built without them. */
  alerts?: AlertService;
  /** billing_accounts of the config: provider account -> tenant/project for billing imports. */
  billingAccounts?: readonly BillingAccountConfig[];
}
