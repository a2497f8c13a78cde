import { describe, expect, it } from 'vitest';
import { alertsSchema } from '../config/index.js';
import { routeAlert } from './routing.js';
import type { AlertKind, AlertScope, Severity } from './types.js';

const sinks = [
  { kind: 'webhook', name: 'hook', url: 'http://127.0.0.1:9/h', secret: 'a-secret-of-16-chars' },
  { kind: 'slack', url: 'http://127.0.0.1:9/s' },
  { kind: 'alertmanager', name: 'am', url: 'http://127.0.0.1:9093' },
];

const alert = (kind: AlertKind, severity: Severity, scope: AlertScope) => ({ kind, severity, scope });

describe('routeAlert', () => {
  it('sends every alert to every sink without routes, under their config names', () => {
    const config = alertsSchema.parse({ sinks });
    expect(routeAlert(config, alert('burn_rate', 'ticket', {}))).toEqual([
      { sink: 'hook', route: -1 },
      { sink: 'slack-2', route: -1 },
      { sink: 'am', route: -1 },
    ]);
  });

  it('matches kind, severity, tenant and project; stops at the first match unless continue', () => {
    const config = alertsSchema.parse({
      sinks,
      routes: [
        { match: { tenant: 'acme', severity: 'page' }, sinks: ['am'], continue: true },
        { match: { tenant: 'acme' }, sinks: ['slack-2'] },
        { match: { kind: 'key_abuse' }, sinks: ['hook', 'am'] },
        { match: { project: 'web' }, sinks: ['hook'] },
        { sinks: ['slack-2'] },
      ],
    });
    const matrix: Array<[AlertKind, Severity, AlertScope, Array<[string, number]>]> = [
      // page for acme: route 0 continues into route 1, which stops.
      [
        'burn_rate',
        'page',
        { tenant: 'acme' },
        [
          ['am', 0],
          ['slack-2', 1],
        ],
      ],
      ['burn_rate', 'ticket', { tenant: 'acme' }, [['slack-2', 1]]],
      // acme's key abuse stops at route 1: per-tenant routes win by order.
      ['key_abuse', 'ticket', { tenant: 'acme', key: 'k1' }, [['slack-2', 1]]],
      [
        'key_abuse',
        'page',
        { tenant: 'beta', key: 'k1' },
        [
          ['hook', 2],
          ['am', 2],
        ],
      ],
      ['spend_anomaly', 'page', { tenant: 'beta', project: 'web' }, [['hook', 3]]],
      ['spend_anomaly', 'page', { tenant: 'beta', project: 'api' }, [['slack-2', 4]]],
    ];
    for (const [kind, severity, scope, want] of matrix)
      expect(
        routeAlert(config, alert(kind, severity, scope)).map((t) => [t.sink, t.route]),
        `${kind} ${severity} ${JSON.stringify(scope)}`,
      ).toEqual(want);
  });

  it('notifies nothing when no route matches, and a sink once when two routes name it', () => {
    const config = alertsSchema.parse({
      sinks,
      routes: [
        { match: { tenant: 'acme' }, sinks: ['hook'], continue: true },
        { match: { severity: 'page' }, sinks: ['hook', 'am'] },
      ],
    });
    expect(routeAlert(config, alert('burn_rate', 'ticket', { tenant: 'beta' }))).toEqual([]);
    expect(routeAlert(config, alert('burn_rate', 'page', { tenant: 'acme' }))).toEqual([
      { sink: 'hook', route: 0 },
      { sink: 'am', route: 1 },
    ]);
  });
});
