import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { z } from 'zod';
import { parseExposition } from '../attribution/prometheus-text.js';
import { grafanaDashboard, grafanaDashboardJson, type Panel } from './dashboard.js';
import { LedgerGauges, observeLedgerGauges, PertokenMetrics } from './index.js';
import { binarySkipReason, promtool, PROMTOOL, tempFiles } from './testing/prometheus.js';

const promtoolSkip = binarySkipReason(PROMTOOL);

const datasource = z.object({ type: z.literal('prometheus'), uid: z.literal('${datasource}') }).strict();
const target = z
  .object({
    refId: z.string().regex(/^[A-Z]$/),
    expr: z.string().min(1),
    legendFormat: z.string().optional(),
    instant: z.boolean().optional(),
  })
  .strict();
const gridPos = z
  .object({
    h: z.number().int().min(1),
    w: z.number().int().min(1).max(24),
    x: z.number().int().min(0).max(23),
    y: z.number().int().min(0),
  })
  .strict()
  .refine((g) => g.x + g.w <= 24, 'panel runs past the 24th column');
const panel = z
  .object({
    id: z.number().int().positive(),
    type: z.enum(['row', 'stat', 'gauge', 'bargauge', 'timeseries', 'table']),
    title: z.string().min(1),
    gridPos,
    datasource: datasource.optional(),
    targets: z
      .array(target)
      .optional()
      .refine((ts) => new Set((ts ?? []).map((t) => t.refId)).size === (ts ?? []).length, 'refIds repeat'),
  })
  .passthrough()
  .refine((p) => p.type === 'row' || (p.datasource !== undefined && (p.targets?.length ?? 0) > 0), {
    message: 'a data panel needs the datasource variable and at least one query',
  });
const dashboardSchema = z
  .object({
    uid: z.string().regex(/^[a-zA-Z0-9_-]{1,40}$/),
    title: z.string().min(1),
    schemaVersion: z.number().int().min(39).max(42),
    version: z.number().int(),
    time: z.object({ from: z.string(), to: z.string() }),
    templating: z.object({
      list: z
        .array(z.object({ name: z.string(), type: z.string() }).passthrough())
        .refine(
          (vars) => vars.some((v) => v.name === 'datasource' && v.type === 'datasource'),
          'no datasource variable',
        ),
    }),
    panels: z.array(panel).min(1),
  })
  .passthrough();

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
]);

/** Metric names of a PromQL expression: identifiers that are not functions, keywords, labels or ranges. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names: string[] = [];
  for (const m of bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const rest = bare.slice((m.index ?? 0) + m[0].length).trimStart();
    if (rest.startsWith('(') || KEYWORDS.has(m[0])) continue;
    names.push(m[0]);
  }
  return names;
}

function allExprs(panels: readonly Panel[]): Array<{ panel: string; expr: string }> {
  return panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
}

/** The families pertoken's registry exposes (HELP/TYPE lines exist before any sample). */
async function exposedFamilies(): Promise<Set<string>> {
  const metrics = new PertokenMetrics();
  const gauges = new LedgerGauges({
    store: { queryCosts: async () => [] },
    budgets: async () => [],
    ranker: metrics,
    onError: () => undefined,
  });
  observeLedgerGauges(metrics, gauges);
  const text = (await metrics.exposition()).body;
  await gauges.idle();
  const families = new Set(parseExposition(text).types.keys());
  for (const [name, type] of parseExposition(text).types)
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) families.add(name + suffix);
  return families;
}

describe('grafana dashboard', () => {
  const dashboard = grafanaDashboard();

  it('is a valid Classic dashboard: 24-column grid, no overlaps, unique refIds, datasource variable', () => {
    const parsed = dashboardSchema.safeParse(JSON.parse(grafanaDashboardJson()));
    expect(parsed.success, parsed.error?.message).toBe(true);
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Map<string, string>();
    for (const p of dashboard.panels)
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++)
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          const key = `${x},${y}`;
          expect(cells.get(key), `${p.title} overlaps ${cells.get(key)} at ${key}`).toBeUndefined();
          cells.set(key, p.title);
        }
    expect(dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title)).toEqual([
      'Executive',
      'On-call',
      'Debug',
    ]);
  });

  it('queries only metrics that /metrics exposes', async () => {
    expect(metricNames('sum by (le) (rate(a_bucket{x="y{"}[5m])) / on (t) group_right () b * 3')).toEqual([
      'a_bucket',
      'b',
    ]);
    const families = await exposedFamilies();
    const queries = [
      ...allExprs(dashboard.panels),
      ...dashboard.templating.list
        .filter((v) => v.type === 'query')
        .map((v) => ({
          panel: `$${String(v.name)}`,
          expr: String(v.definition).replace(/^label_values\((.*), \w+\)$/, '$1'),
        })),
    ];
    const used = new Set<string>();
    for (const { panel, expr } of queries) {
      const names = metricNames(expr);
      expect(names.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      for (const name of names) {
        expect(families.has(name), `${panel} reads ${name}, which /metrics does not expose`).toBe(true);
        used.add(name);
      }
    }
    expect(used).toContain('pertoken_requests_refused_total');
    expect(used).toContain('pertoken_alerts_firing');
    expect(used).toContain('pertoken_tenant_spend_mtd_usd');
  });

  it.skipIf(promtoolSkip !== null)('has expressions the Prometheus 2.42 parser accepts', () => {
    const rules = allExprs(dashboard.panels).map(({ expr }, i) => ({
      record: `dashboard:query:${i}`,
      expr: expr
        .replaceAll('$__rate_interval', '1m')
        .replaceAll('$__range', '1h')
        .replace(/\$(tenant|model|budget)/g, '.*'),
    }));
    const { dir, cleanup } = tempFiles({ 'rules.yml': stringify({ groups: [{ name: 'dashboard', rules }] }) });
    try {
      const run = promtool(['check', 'rules', join(dir, 'rules.yml')]);
      expect(run.stderr).toBe('');
      expect(run.stdout).toContain(`SUCCESS: ${rules.length} rules found`);
    } finally {
      cleanup();
    }
  });
});
