/**
 * Display formats. Money arrives as a decimal string of USD (9 decimals) and is rounded from that
 * string exactly (bigint nano-USD), so the page shows the API's figure, never a float's.
 */

const NANO = 1_000_000_000n;

/** Exact nano-USD of a decimal string ("-12.5", "0.000000001"); 0 for null or junk. */
export function nanoOf(usd: string | null | undefined): bigint {
  if (usd === null || usd === undefined) return 0n;
  const m = /^(-)?(\d+)(?:\.(\d{1,9})\d*)?$/.exec(usd.trim());
  if (m === null) return 0n;
  const nano = BigInt(m[2] as string) * NANO + BigInt((m[3] ?? '').padEnd(9, '0'));
  return m[1] ? -nano : nano;
}

/** nano-USD back to the API's 9-decimal string. */
export function usdText(nano: bigint): string {
  const negative = nano < 0n;
  const abs = negative ? -nano : nano;
  return `${negative ? '-' : ''}${abs / NANO}.${(abs % NANO).toString().padStart(9, '0')}`;
}

/** USD as a float, for chart geometry only. */
export function usdNumber(usd: string | null | undefined): number {
  return Number(nanoOf(usd)) / 1e9;
}

function grouped(int: bigint): string {
  return int.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** `$1,234.56`, rounded half away from zero at `digits` decimals (2 unless asked). */
export function money(value: string | bigint | null | undefined, digits = 2): string {
  if (value === null || value === undefined) return '—';
  const nano = typeof value === 'bigint' ? value : nanoOf(value);
  const negative = nano < 0n;
  const abs = negative ? -nano : nano;
  const unit = 10n ** BigInt(9 - digits);
  const scaled = (abs + unit / 2n) / unit;
  const scale = 10n ** BigInt(digits);
  const whole = grouped(scaled / scale);
  const frac = digits > 0 ? `.${(scaled % scale).toString().padStart(digits, '0')}` : '';
  return `${negative && scaled !== 0n ? '-' : ''}$${whole}${frac}`;
}

/** Money with enough decimals to see a single request's cost ($0.000534). */
export function moneyFine(value: string | bigint | null | undefined): string {
  if (value === null || value === undefined) return '—';
  const nano = typeof value === 'bigint' ? value : nanoOf(value);
  const abs = nano < 0n ? -nano : nano;
  if (abs >= NANO || abs === 0n) return money(nano, 2);
  if (abs >= NANO / 100n) return money(nano, 4);
  return money(nano, 6);
}

export function int(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return Math.round(n).toLocaleString('en-US');
}

/** 1.2M, 35k */
export function compact(n: number): string {
  return new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 }).format(n);
}

export function pct(part: number, whole: number, digits = 1): string {
  if (whole === 0) return '—';
  return `${((part / whole) * 100).toFixed(digits)}%`;
}

export function ms(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  return n >= 10_000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n).toLocaleString('en-US')} ms`;
}

export function tokenTotal(tokens: Partial<Record<string, number>>): number {
  let sum = 0;
  for (const [bucket, n] of Object.entries(tokens)) {
    // Per-call units are not tokens.
    if (bucket !== 'requests' && bucket !== 'web_search' && bucket !== 'tool_calls') sum += n ?? 0;
  }
  return sum;
}

/** USD per 1M tokens of a row, exact up to the division; null without tokens. */
export function perMillion(costUsd: string, tokens: number): number | null {
  return tokens > 0 ? (usdNumber(costUsd) / tokens) * 1e6 : null;
}

export function perMillionNano(nano: bigint, tokens: number): number | null {
  return tokens > 0 ? (Number(nano) / 1e9 / tokens) * 1e6 : null;
}

/** Nearest-rank percentile of a sample (sorted or not). */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? null;
}

export function label(value: unknown): string {
  return value === null || value === undefined || value === '' ? '(none)' : String(value);
}
