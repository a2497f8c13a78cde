import type { Budget } from '../../governance/index.js';
import { parseUsd } from '../../money.js';

/** Test helpers of metrics (excluded from the build). */

/** A monthly UTC budget of tenant acme unless overridden. */
export function budgetOf(overrides: Partial<Omit<Budget, 'limit_nano'>> & { id: string; limit_usd?: string }): Budget {
  const { limit_usd, ...rest } = overrides;
  return {
    scope: { tenant: 'acme' },
    period: 'month',
    tz: 'UTC',
    limit_nano: parseUsd(limit_usd ?? '744'),
    action: 'alert_only',
    downgrade_to: null,
    downgrade_at: 1,
    thresholds: [0.5, 0.8, 1],
    fail_mode: 'open',
    origin: 'config',
    created_at: new Date(0),
    updated_at: new Date(0),
    ...rest,
  };
}
