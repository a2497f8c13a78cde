/**
 * Full cost and chargeback (DESIGN §3): GPU pools with idle, shared costs, price plans with
 * margin, statements and the FOCUS 1.2 export. Everything is exact nano-USD (src/money.ts).
 */
export { AttributionService, type AttributionDeps } from './service.js';
export { attribute, type Attribution, type AttributionInputs, type UsageRow, type UsageSource } from './attribute.js';
export { ledgerUsage } from './usage.js';
export { loadCostSources, openAttribution, type CostSources } from './setup.js';
export { poolFile, RUNTIME_POOLS_FILE, type PoolPersistence } from './pool-file.js';
export { compilePools, type MeasuredCapacity, type Pool } from './pools.js';
export { buildStatement, type ChargebackJson, type StatementLineJson, type TenantStatementJson } from './statement.js';
export { dollars, identityOf, statementCsv, statementTable, type Identity } from './statement-render.js';
export { escapeHtml, statementHtml, type HtmlOptions } from './statement-html.js';
export type { PoolReportJson } from './pools-report.js';
export {
  PoolTelemetry,
  telemetryTargets,
  type PoolTelemetryJson,
  type PoolTelemetryOptions,
  type ScrapeFetch,
  type TelemetryTarget,
  type TelemetryUrlJson,
} from './telemetry.js';
export { monthWindow, type Window } from './window.js';
export { focusCsv, focusRecords, type FocusDeps } from './focus.js';
export { FOCUS_COLUMNS, FOCUS_FEATURES, type FocusColumn, type FocusRecord } from './focus-columns.js';
export * from './billing/index.js';
export * from './reconcile/index.js';
export { startBillingSchedule, type BillingSchedule, type BillingScheduleOptions } from './billing/schedule.js';
