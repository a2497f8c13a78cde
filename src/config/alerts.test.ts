import { describe, expect, it } from 'vitest';
import { PertokenError } from '../errors.js';
import { parseConfig, sinkName } from './index.js';

/** The one line a bad config prints (param and message). */
function failure(alerts: unknown): string {
  try {
    parseConfig({ alerts });
  } catch (err) {
    if (err instanceof PertokenError) return err.toLine();
    throw err;
  }
  return 'no error';
}

const webhook = { kind: 'webhook', url: 'https://ops.example/hook', secret: 'a-secret-of-16-chars' };

describe('alerts: and metrics:', () => {
  it('works with nothing set: every detector on its defaults, no sinks, bounded labels', () => {
    const config = parseConfig({});
    expect(config.alerts).toMatchObject({ enabled: true, interval_s: 60, sinks: [], routes: [] });
    expect(config.alerts.anomaly).toMatchObject({ page_score: 3, ticket_score: 2, weeks: 4, min_impact_usd: '1' });
    expect(config.metrics).toEqual({ top_tenants: 20, top_models: 20 });
  });

  it('names sinks by kind and position unless named, and routes refer to those names', () => {
    const config = parseConfig({
      alerts: {
        sinks: [
          webhook,
          { kind: 'slack', url: 'https://hooks.slack.example/x' },
          { kind: 'alertmanager', name: 'am', url: 'http://127.0.0.1:9093' },
        ],
        routes: [{ match: { tenant: 'acme', severity: 'page' }, sinks: ['webhook-1', 'am'] }],
      },
    });
    expect(config.alerts.sinks.map(sinkName)).toEqual(['webhook-1', 'slack-2', 'am']);
    expect(config.alerts.routes[0]).toMatchObject({ continue: false, sinks: ['webhook-1', 'am'] });
  });

  it('names the bad field', () => {
    expect(failure({ routes: [{ sinks: ['pager'] }] })).toContain('alerts.routes[0].sinks[0]');
    expect(failure({ routes: [{ sinks: ['pager'] }] })).toContain('no sink named pager');
    expect(
      failure({
        sinks: [
          { ...webhook, name: 'ops' },
          { ...webhook, name: 'ops' },
        ],
      }),
    ).toContain('duplicate sink "ops"');
    expect(failure({ sinks: [{ ...webhook, secret: 'short' }] })).toContain('alerts.sinks[0].secret');
    expect(failure({ sinks: [{ kind: 'email', url: 'https://x.example' }] })).toContain('alerts.sinks[0].kind');
    expect(failure({ anomaly: { page_score: 2, ticket_score: 3 } })).toContain('alerts.anomaly.ticket_score');
    expect(failure({ interval_s: 1 })).toContain('alerts.interval_s');
    expect(failure({ runbook_base_url: 'ftp://docs' })).toContain('alerts.runbook_base_url');
  });
});
