import type { ComponentChildren } from 'preact';

export function Panel({
  title,
  actions,
  children,
  wide,
  id,
}: {
  title: string;
  actions?: ComponentChildren;
  children: ComponentChildren;
  wide?: boolean;
  id?: string;
}) {
  const headingId = `${id ?? title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-title`;
  return (
    <section class={`panel${wide ? ' wide' : ''}`} aria-labelledby={headingId}>
      <header class="panel-head">
        <h2 id={headingId}>{title}</h2>
        {actions ? <div class="panel-actions">{actions}</div> : null}
      </header>
      {children}
    </section>
  );
}

export function Stat({
  label,
  value,
  sub,
  testid,
  tone,
}: {
  label: string;
  value: ComponentChildren;
  sub?: ComponentChildren;
  testid?: string;
  tone?: 'good' | 'warn' | 'bad';
}) {
  return (
    <div class={`stat${tone ? ` ${tone}` : ''}`}>
      <div class="stat-label">{label}</div>
      <div class="stat-value" data-testid={testid}>
        {value}
      </div>
      {sub ? <div class="stat-sub">{sub}</div> : null}
    </div>
  );
}

/** A horizontal meter (spent of a limit); the number is in the text, the bar only shows it. */
export function Meter({ value, max, label }: { value: number; max: number; label: string }) {
  const ratio = max > 0 ? value / max : 0;
  const tone = ratio >= 1 ? 'bad' : ratio >= 0.8 ? 'warn' : 'good';
  return (
    <div
      class={`meter ${tone}`}
      role="meter"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={max}
      aria-valuenow={Math.min(value, max)}
    >
      <div class="meter-fill" style={{ width: `${Math.min(100, ratio * 100).toFixed(1)}%` }} />
    </div>
  );
}
