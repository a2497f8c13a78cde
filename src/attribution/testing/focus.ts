/**
 * Test helpers for the FOCUS export (excluded from the build): the FOCUS 1.2 rules read from the
 * reference text itself (billing-formats.md §1.2 table and §1.3 allowed values, copied beside this
 * file as focus-1.2-columns.md), a CSV reader, and a checker that lists every broken rule.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseDecimal, type Decimal } from '../../money.js';
import { FOCUS_COLUMNS, type FocusRecord } from '../focus-columns.js';

export interface ReferenceColumn {
  readonly name: string;
  readonly level: 'Mandatory' | 'Conditional' | 'Recommended';
  readonly nullable: boolean;
  readonly type: 'String' | 'Decimal' | 'DateTime' | 'JSON';
  /** Values the table's Format cell lists (ChargeCategory...), or §1.3's ServiceCategory list. */
  readonly allowed: readonly string[] | null;
}

export interface FocusReference {
  readonly columns: ReadonlyMap<string, ReferenceColumn>;
  /** ServiceSubcategory -> its one parent ServiceCategory. */
  readonly parents: ReadonlyMap<string, string>;
}

const COPY = new URL('./focus-1.2-columns.md', import.meta.url);
/** The original, beside the repository (../shared/reference): absent in a clean clone. */
const ORIGINAL = new URL('../../../../shared/reference/billing-formats.md', import.meta.url);

/** §1.2 and §1.3 as text: from the "### 1.2" heading to "### 1.4" (or the end). */
function sections(text: string): string {
  const start = text.indexOf('### 1.2 ');
  const end = text.indexOf('### 1.4 ', start);
  return text.slice(start, end === -1 ? undefined : end).trimEnd();
}

/** The committed copy's sections, and the original's when it is there (to catch drift). */
export function referenceTexts(): { copy: string; original: string | null } {
  const copy = sections(readFileSync(COPY, 'utf8'));
  const original = existsSync(ORIGINAL) ? sections(readFileSync(ORIGINAL, 'utf8')) : null;
  return { copy, original };
}

const LEVELS = { M: 'Mandatory', C: 'Conditional', R: 'Recommended' } as const;
const BACKTICKED = /^`[^`]+`(, `[^`]+`)*$/;

export function parseReference(text: string): FocusReference {
  const columns = new Map<string, ReferenceColumn>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('| ')) continue;
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    const [name = '', , level = '', nullable = '', type = '', format = ''] = cells;
    if (name === 'Column ID' || name.startsWith('---')) continue;
    const levelName = LEVELS[level as keyof typeof LEVELS];
    const typeName = type.replaceAll('*', '') === 'Date/Time' ? 'DateTime' : type.replaceAll('*', '');
    if (!levelName || !['String', 'Decimal', 'DateTime', 'JSON'].includes(typeName)) {
      throw new Error(`cannot read the reference row for ${name}: ${line}`);
    }
    columns.set(name, {
      name,
      level: levelName,
      nullable: nullable.startsWith('yes'),
      type: typeName as ReferenceColumn['type'],
      allowed: BACKTICKED.test(format) ? [...format.matchAll(/`([^`]+)`/g)].map((m) => m[1]!) : null,
    });
  }

  const lines = text.split('\n');
  const categoryAt = lines.findIndex((l) => l.startsWith('- **ServiceCategory**'));
  let categoryText = lines[categoryAt] ?? '';
  for (let i = categoryAt + 1; i < lines.length && !/^\s*- /.test(lines[i]!); i++) categoryText += lines[i];
  const categories = [...categoryText.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
  const service = columns.get('ServiceCategory');
  if (service) columns.set('ServiceCategory', { ...service, allowed: categories });

  const parents = new Map<string, string>();
  const subAt = lines.findIndex((l) => l.startsWith('- **ServiceSubcategory**'));
  for (const line of lines.slice(subAt + 1)) {
    if (line.startsWith('- ')) break;
    const m = /^\s+- \*\*([^*]+)\*\*: (.+)$/.exec(line);
    if (!m) continue;
    for (const sub of m[2]!.split(';')) parents.set(sub.trim(), m[1]!);
  }
  return { columns, parents };
}

/** RFC 4180: quoted fields with doubled quotes, any line end; an unquoted empty field is null. */
export function parseCsv(text: string): Array<Array<string | null>> {
  const rows: Array<Array<string | null>> = [];
  let row: Array<string | null> = [];
  let i = 0;
  while (i < text.length) {
    let value: string | null;
    if (text[i] === '"') {
      let end = i + 1;
      value = '';
      for (;;) {
        const q = text.indexOf('"', end);
        if (q === -1) throw new Error('unterminated quoted field');
        value += text.slice(end, q);
        if (text[q + 1] === '"') {
          value += '"';
          end = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
    } else {
      let end = i;
      while (end < text.length && !',\r\n'.includes(text[end]!)) end++;
      value = end === i ? null : text.slice(i, end);
      i = end;
    }
    row.push(value);
    if (text[i] === ',') {
      i++;
      if (i === text.length || text[i] === '\n' || text[i] === '\r') row.push(null);
    }
    if (i >= text.length || text[i] === '\n' || text[i] === '\r') {
      if (text[i] === '\r') i++;
      if (text[i] === '\n') i++;
      rows.push(row);
      row = [];
    }
  }
  return rows;
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const UNIT = /^[0-9]+ [A-Za-z]+$/;

const dec = (value: string): Decimal => parseDecimal(value, 'value');

/**
 * |unitPrice × quantity − cost| ≤ quantity × 0.5e-12: the unit price is rounded half-even at 12
 * decimals, so the product may miss the cost by that much and no more.
 */
export function reproduces(unitPrice: string, quantity: string, cost: string): boolean {
  const [a, b, c] = [dec(unitPrice), dec(quantity), dec(cost)];
  const scale = Math.max(a.scale + b.scale, c.scale, b.scale + 13);
  const diff = a.units * b.units * 10n ** BigInt(scale - a.scale - b.scale) - c.units * 10n ** BigInt(scale - c.scale);
  const tolerance = 5n * b.units * 10n ** BigInt(scale - b.scale - 13);
  return (diff < 0n ? -diff : diff) <= tolerance;
}

/** Every FOCUS 1.2 rule a record breaks, as "row N Column: why" lines; empty when it conforms. */
export function focusViolations(records: readonly FocusRecord[], reference: FocusReference): string[] {
  const out: string[] = [];
  records.forEach((r, n) => {
    const fail = (column: string, why: string): void => {
      out.push(`row ${n} ${column}: ${why} (${JSON.stringify(r[column as keyof FocusRecord])})`);
    };
    for (const spec of FOCUS_COLUMNS) {
      const value = r[spec.name];
      if (value === null) {
        if (!spec.nullable) fail(spec.name, 'null in a non-nullable column');
        continue;
      }
      if (value.trim() === '') fail(spec.name, 'empty or blank string instead of null');
      if (spec.type === 'Decimal') {
        if (!value.includes('.')) fail(spec.name, 'Decimal without a decimal point (T9)');
        try {
          dec(value);
        } catch {
          fail(spec.name, 'not a decimal');
        }
      }
      if (spec.type === 'DateTime' && !DATE_TIME.test(value)) fail(spec.name, 'not YYYY-MM-DDTHH:mm:ssZ');
      if (spec.type === 'Integer' && !/^\d+$/.test(value)) fail(spec.name, 'not an integer');
      if (spec.type === 'JSON') {
        const parsed: unknown = JSON.parse(value);
        const flat =
          typeof parsed === 'object' &&
          parsed !== null &&
          !Array.isArray(parsed) &&
          Object.values(parsed).every((v) => v === null || ['string', 'number', 'boolean'].includes(typeof v));
        if (!flat) fail(spec.name, 'not a flat JSON object');
      }
      const allowed = reference.columns.get(spec.name)?.allowed ?? ('allowed' in spec ? spec.allowed : null);
      if (allowed && !allowed.includes(value)) fail(spec.name, 'not an allowed value');
    }
    const sub = r.ServiceSubcategory;
    if (sub !== null && reference.parents.get(sub) !== r.ServiceCategory) fail('ServiceSubcategory', 'wrong parent');
    if (r.PricingUnit !== null && !UNIT.test(r.PricingUnit)) fail('PricingUnit', 'not "<whole number> <Units>"');
    if (r.ConsumedUnit !== null && !/^[A-Z][A-Za-z]*s$/.test(r.ConsumedUnit)) fail('ConsumedUnit', 'not a plural unit');
    const pairs = [
      ['ConsumedQuantity', 'ConsumedUnit'],
      ['PricingQuantity', 'PricingUnit'],
      ['SkuId', 'SkuMeter'],
      ['SubAccountId', 'SubAccountName'],
      ['SkuPriceId', 'SkuPriceDetails'],
    ] as const;
    for (const [id, dependent] of pairs) {
      if ((r[id] === null) !== (r[dependent] === null)) fail(dependent, `null iff ${id} is null`);
    }
    const usage = r.ChargeCategory === 'Usage';
    if (!usage && r.ConsumedQuantity !== null) fail('ConsumedQuantity', 'non-null outside Usage');
    if (usage) {
      for (const c of [
        'ConsumedQuantity',
        'ListUnitPrice',
        'PricingCategory',
        'PricingQuantity',
        'SkuId',
        'SkuPriceId',
      ] as const) {
        if (r[c] === null) fail(c, 'null on a Usage row');
      }
    }
    if (
      r.ChargeCategory === 'Credit' &&
      new Set([r.BilledCost, r.EffectiveCost, r.ListCost, r.ContractedCost]).size !== 1
    ) {
      fail('BilledCost', 'Credit rows carry one amount in all four cost columns');
    }
    if (r.ChargeCategory === 'Purchase' && r.ChargeFrequency === 'Usage-Based') fail('ChargeFrequency', 'Purchase');
    const lup = r.ListUnitPrice;
    const pq = r.PricingQuantity;
    if (lup !== null && pq !== null && !reproduces(lup, pq, r.ListCost ?? '')) {
      fail('ListUnitPrice', `× PricingQuantity ${pq} is not ListCost ${r.ListCost ?? ''}`);
    }
    const [cs, ce, bs, be] = [r.ChargePeriodStart, r.ChargePeriodEnd, r.BillingPeriodStart, r.BillingPeriodEnd].map(
      (v) => Date.parse(v ?? ''),
    ) as [number, number, number, number];
    if (!(cs < ce)) fail('ChargePeriodEnd', 'not after ChargePeriodStart');
    if (!(bs < be)) fail('BillingPeriodEnd', 'not after BillingPeriodStart');
    if (cs < bs || ce > be) fail('ChargePeriodStart', 'charge period outside the billing period');
  });
  return out;
}
