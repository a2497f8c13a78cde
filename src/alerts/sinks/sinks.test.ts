import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { alertsSchema } from '../../config/index.js';
import type { AlertJson, Notification } from '../present.js';
import { alertName, createSinks, postableAlert, runbookUrl, slackSink, verifySignature, webhookSink } from './index.js';

const NOW = new Date('2026-11-02T10:05:00.000Z');

function alertJson(overrides: Partial<AlertJson> = {}): AlertJson {
  return {
    id: '01JBZ0000000000000000000AA',
    kind: 'spend_anomaly',
    severity: 'page',
    state: 'firing',
    scope: { tenant: 'acme', project: 'web' },
    started_at: '2026-11-02T10:00:00.000Z',
    ended_at: null,
    summary: 'acme/web spent $40.00/h vs $4.00/h <expected> & more',
    value: 40,
    baseline: 4,
    fingerprint: '0123456789abcdef0123456789abcdef',
    runbook: 'docs/runbooks/spend_anomaly.md',
    ...overrides,
  };
}

const note = (change: Notification['change'], seq: number, alert = alertJson()): Notification => ({
  notification: `01JBZ00000000000000000N${seq.toString().padStart(3, '0')}`,
  change,
  seq,
  alert,
});

describe('webhook sink', () => {
  it('posts {version:1, alerts} signed with HMAC-SHA256 of the raw body and the delivery id', () => {
    const secret = 'a-secret-of-16-chars';
    const sink = webhookSink({ name: 'hook', url: 'https://hooks.example/x', secret });
    const out = sink.render([note('opened', 1), note('resolved', 2, alertJson({ id: 'other', state: 'resolved' }))], {
      now: NOW,
      delivery: 'd-1',
    });
    expect(out.url).toBe('https://hooks.example/x');
    expect(out.headers['x-pertoken-delivery']).toBe('d-1');
    const expected = `sha256=${createHmac('sha256', secret).update(out.body).digest('hex')}`;
    expect(out.headers['x-pertoken-signature']).toBe(expected);
    expect(verifySignature(secret, out.body, out.headers['x-pertoken-signature'])).toBe(true);
    expect(verifySignature('another-secret-16ch', out.body, out.headers['x-pertoken-signature'])).toBe(false);
    expect(verifySignature(secret, `${out.body} `, out.headers['x-pertoken-signature'])).toBe(false);
    const body = JSON.parse(out.body) as { version: number; alerts: Array<Record<string, unknown>> };
    expect(body.version).toBe(1);
    expect(body.alerts).toEqual([
      { ...alertJson(), change: 'opened', seq: 1, notification: '01JBZ00000000000000000N001' },
      {
        ...alertJson({ id: 'other', state: 'resolved' }),
        change: 'resolved',
        seq: 2,
        notification: '01JBZ00000000000000000N002',
      },
    ]);
  });

  it('prefixes runbooks with a configured base URL', () => {
    expect(runbookUrl('docs/runbooks/burn_rate.md', 'https://git.example/pertoken/blob/main')).toBe(
      'https://git.example/pertoken/blob/main/docs/runbooks/burn_rate.md',
    );
    const sink = webhookSink(
      { name: 'hook', url: 'https://hooks.example/x', secret: 'a-secret-of-16-chars' },
      { runbookBaseUrl: 'https://git.example/p/' },
    );
    const body = JSON.parse(sink.render([note('opened', 1)], { now: NOW, delivery: 'd' }).body) as {
      alerts: Array<{ runbook: string }>;
    };
    expect(body.alerts[0]?.runbook).toBe('https://git.example/p/docs/runbooks/spend_anomaly.md');
  });
});

describe('slack sink', () => {
  it('renders an incoming-webhook message: text plus one section per alert', () => {
    const sink = slackSink({ name: 'slack', url: 'https://hooks.slack.com/services/T/B/X' });
    const out = sink.render(
      [note('opened', 1), note('resolved', 3, alertJson({ severity: 'ticket', state: 'resolved', scope: {} }))],
      { now: NOW, delivery: 'd' },
    );
    const body = JSON.parse(out.body) as {
      text: string;
      blocks: Array<{ type: string; text: { type: string; text: string } }>;
    };
    expect(body.text).toBe('pertoken: 2 alerts (1 opened, 1 resolved)');
    expect(body.blocks).toHaveLength(2);
    expect(body.blocks.every((b) => b.type === 'section' && b.text.type === 'mrkdwn')).toBe(true);
    expect(body.blocks[0]?.text.text).toBe(
      [
        ':rotating_light: *PAGE* · *spend_anomaly* opened',
        'acme/web spent $40.00/h vs $4.00/h &lt;expected&gt; &amp; more',
        '`tenant=acme project=web`',
        'Runbook: `docs/runbooks/spend_anomaly.md` · since 2026-11-02T10:00:00.000Z',
      ].join('\n'),
    );
    expect(body.blocks[1]?.text.text.split('\n')[0]).toBe(':white_check_mark: *TICKET* · *spend_anomaly* resolved');
    expect(sink.maxBatch).toBeLessThanOrEqual(50);
  });

  it('links the runbook when it is a URL, and says the one alert in the text', () => {
    const sink = slackSink(
      { name: 'slack', url: 'https://hooks.slack.com/x' },
      { runbookBaseUrl: 'https://rb.example/' },
    );
    const body = JSON.parse(sink.render([note('escalated', 2)], { now: NOW, delivery: 'd' }).body) as {
      text: string;
      blocks: Array<{ text: { text: string } }>;
    };
    expect(body.text).toBe(
      'pertoken page spend_anomaly escalated: acme/web spent $40.00/h vs $4.00/h &lt;expected&gt; &amp; more',
    );
    expect(body.blocks[0]?.text.text).toContain('<https://rb.example/docs/runbooks/spend_anomaly.md|Runbook>');
  });
});

describe('alertmanager sink', () => {
  it('posts postableAlerts to /api/v2/alerts with endsAt ahead while firing and the real end once resolved', () => {
    expect(alertName('forecast_over_budget')).toBe('ForecastOverBudget');
    const [sink] = createSinks(
      alertsSchema.parse({
        alertmanager_resend_s: 60,
        sinks: [{ kind: 'alertmanager', url: 'http://am.example:9093/' }],
      }),
    );
    expect(sink).toMatchObject({ name: 'alertmanager-1', kind: 'alertmanager', resendMs: 60_000 });
    const resolved = alertJson({ state: 'resolved', ended_at: '2026-11-02T10:04:00.000Z', baseline: null });
    const out = sink!.render([note('opened', 1), note('resolved', 2, resolved)], { now: NOW, delivery: 'd' });
    expect(out.url).toBe('http://am.example:9093/api/v2/alerts');
    expect(JSON.parse(out.body)).toEqual([
      {
        labels: {
          alertname: 'SpendAnomaly',
          severity: 'page',
          fingerprint: '0123456789abcdef0123456789abcdef',
          tenant: 'acme',
          project: 'web',
        },
        annotations: {
          summary: 'acme/web spent $40.00/h vs $4.00/h <expected> & more',
          runbook_url: 'docs/runbooks/spend_anomaly.md',
          value: '40',
          baseline: '4',
          alert_id: '01JBZ0000000000000000000AA',
        },
        startsAt: '2026-11-02T10:00:00.000Z',
        endsAt: '2026-11-02T10:08:00.000Z',
      },
      expect.objectContaining({
        annotations: expect.objectContaining({ baseline: '' }),
        endsAt: '2026-11-02T10:04:00.000Z',
      }),
    ]);
    expect(postableAlert(alertJson(), NOW, 10).endsAt).toBe('2026-11-02T10:05:30.000Z');
  });

  it('names sinks as routes do', () => {
    const sinks = createSinks(
      alertsSchema.parse({
        sinks: [
          { kind: 'webhook', name: 'ops', url: 'http://h.example/', secret: 'a-secret-of-16-chars' },
          { kind: 'slack', url: 'https://hooks.slack.com/x' },
        ],
      }),
    );
    expect(sinks.map((s) => [s.name, s.kind])).toEqual([
      ['ops', 'webhook'],
      ['slack-2', 'slack'],
    ]);
  });
});
