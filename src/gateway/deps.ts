import type { Logger } from 'pino';
import type { PertokenError } from '../errors.js';
import type { Admission, AdmitRequest, Authenticator, Identity } from '../governance/index.js';
import type { Attribution, Reservation, UsageEvent } from '../ledger/index.js';
import type { PriceBook } from '../pricing/index.js';
import type { RouteId } from '../providers/index.js';
import type { ModelRouter } from './routing.js';
import type { UpstreamPools } from './upstream.js';

/** What the gateway needs, built by server.ts: model calls (proxy.ts) and pass-through routes share it. */

/** What the gateway reports to metrics; implemented by metrics/, kept structural to avoid a cycle. */
export interface GatewayObserver {
  requestStarted(route: string): void;
  requestFinished(route: string): void;
  eventRecorded(event: UsageEvent): void;
  ledgerWriteFailed(): void;
  /** An error of pertoken's own answered to a caller (bad input, auth, scope, budget, rate limit). */
  callRejected(error: PertokenError): void;
}

/** What the gateway asks of governance (keys' scopes, budgets, rate limits). */
export interface GatewayGovernance {
  authorize(
    identity: Identity,
    attribution: Attribution,
    route: RouteId,
    requested: string,
    resolved: string,
  ): Promise<void>;
  allowsModel(identity: Identity, model: string): boolean;
  admit(request: AdmitRequest): Promise<Admission>;
}

export interface GatewayDeps {
  router: ModelRouter;
  pools: UpstreamPools;
  authenticate: Authenticator;
  priceBook: PriceBook;
  /** settle() must keep the event even when the store fails (see SettleRetrier). */
  ledger: { reserve(reservation: Reservation): Promise<void>; settle(event: UsageEvent): Promise<void> };
  observer: GatewayObserver;
  log: Logger;
  maxBodyBytes: number;
  newId(): string;
  /** Absent: open mode without budgets or limits (the gateway of a bare install). */
  governance?: GatewayGovernance;
  /** Upstream statuses that move a request to its next fallback model. */
  fallbackOn?: readonly number[];
}
