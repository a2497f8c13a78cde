import { describe, expect, it } from 'vitest';
import { parseExposition } from '../attribution/prometheus-text.js';
import { ALERT_KINDS } from '../alerts/types.js';
import { PertokenError } from '../errors.js';
import { PertokenMetrics } from './index.js';

async function samples(metrics: PertokenMetrics, name: string): Promise<Record<string, number>> {
  const list = parseExposition((await metrics.exposition()).body).samples.get(name) ?? [];
  return Object.fromEntries(list.map((s) => [Object.values(s.labels).join('/'), s.value]));
}

describe('PertokenMetrics', () => {
  it('exports every alert kind and severity, at 0 until the alert store reports counts', async () => {
    const metrics = new PertokenMetrics();
    const zero = await samples(metrics, 'pertoken_alerts_firing');
    expect(Object.keys(zero)).toHaveLength(ALERT_KINDS.length * 2);
    expect(Object.values(zero).every((v) => v === 0)).toBe(true);

    metrics.setAlertCounts([
      { kind: 'burn_rate', severity: 'page', firing: 2 },
      { kind: 'key_abuse', severity: 'ticket', firing: 1 },
    ]);
    const firing = await samples(metrics, 'pertoken_alerts_firing');
    expect(Object.entries(firing).filter(([, v]) => v > 0)).toEqual([
      ['key_abuse/ticket', 1],
      ['burn_rate/page', 2],
    ]);
    // A later report replaces, not adds.
    metrics.setAlertCounts([{ kind: 'burn_rate', severity: 'page', firing: 1 }]);
    expect((await samples(metrics, 'pertoken_alerts_firing'))['burn_rate/page']).toBe(1);
    expect((await samples(metrics, 'pertoken_alerts_firing'))['key_abuse/ticket']).toBe(0);
  });

  it('counts refusals by code and status, and nothing else', async () => {
    const metrics = new PertokenMetrics();
    metrics.callRejected(new PertokenError('counters_unavailable', 'down'));
    metrics.callRejected(new PertokenError('invalid_request', 'bad'));
    metrics.callRejected(new PertokenError('upstream_timeout', 'slow'));
    expect(await samples(metrics, 'pertoken_requests_refused_total')).toEqual({ 'counters_unavailable/503': 1 });
  });
});
