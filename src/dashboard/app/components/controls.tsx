import { useMemo } from 'preact/hooks';
import { FILTER_KEYS, navigate, withParams, type FilterKey, type Route } from '../lib/route.js';
import { dayString, PRESETS, resolveWindow, timeZones, type Preset, type RangeState } from '../lib/time.js';

/** The range of a route, with the view's default preset when the URL names none. */
export function rangeOf(route: Route, fallback: Preset): RangeState {
  const asked = route.params.get('range');
  const range = PRESETS.some((p) => p.id === asked) ? (asked as Preset) : fallback;
  return { range, from: route.params.get('from'), to: route.params.get('to'), tz: route.params.get('tz') || 'UTC' };
}

let zones: string[] | null = null;

export function RangePicker({
  route,
  fallback,
  allowAll = false,
  now,
}: {
  route: Route;
  fallback: Preset;
  allowAll?: boolean;
  now: number;
}) {
  const state = rangeOf(route, fallback);
  const window = resolveWindow(state, now);
  zones ??= timeZones();
  const zoneList = useMemo(() => (zones?.includes(state.tz) ? zones : [state.tz, ...(zones ?? [])]), [state.tz]);
  const presets = PRESETS.filter((p) => allowAll || p.id !== 'all');
  const set = (changes: Record<string, string | null>): void =>
    navigate(withParams(route, { cursor: null, trail: null, ...changes }));
  const onPreset = (value: string): void => {
    if (value === 'custom') {
      const from = window.from ?? now;
      const to = (window.to ?? now) - 1;
      set({ range: 'custom', from: dayString(from, state.tz), to: dayString(Math.max(from, to), state.tz) });
    } else {
      set({ range: value === fallback ? null : value, from: null, to: null });
    }
  };
  return (
    <div class="range-picker" role="group" aria-label="Time range">
      <label class="field">
        <span>Range</span>
        <select value={state.range} onChange={(e) => onPreset(e.currentTarget.value)} data-testid="range-select">
          {presets.map((p) => (
            <option key={p.id} value={p.id}>
              {p.label}
            </option>
          ))}
        </select>
      </label>
      {state.range === 'custom' ? (
        <>
          <label class="field">
            <span>From</span>
            <input
              type="date"
              value={state.from ?? ''}
              onChange={(e) => set({ from: e.currentTarget.value || null })}
              data-testid="range-from"
            />
          </label>
          <label class="field">
            <span>To</span>
            <input
              type="date"
              value={state.to ?? ''}
              onChange={(e) => set({ to: e.currentTarget.value || null })}
              data-testid="range-to"
            />
          </label>
        </>
      ) : null}
      <label class="field">
        <span>Time zone</span>
        <select
          value={state.tz}
          onChange={(e) => set({ tz: e.currentTarget.value === 'UTC' ? null : e.currentTarget.value })}
          data-testid="tz-select"
        >
          {zoneList.map((z) => (
            <option key={z} value={z}>
              {z}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}

const FILTER_LABEL: Record<FilterKey, string> = {
  tenant: 'Tenant',
  project: 'Project',
  model: 'Model',
  requested_model: 'Requested model',
  provider: 'Provider',
  feature: 'Feature',
  user: 'User',
  key: 'Key',
  route: 'Route',
  status: 'Status',
  trace: 'Trace',
};

export function filterLabel(key: FilterKey): string {
  return FILTER_LABEL[key];
}

/** The active filters as removable chips. */
export function FilterChips({ route }: { route: Route }) {
  const active = FILTER_KEYS.filter((k) => route.params.get(k));
  if (active.length === 0) return null;
  return (
    <ul class="chips" aria-label="Active filters">
      {active.map((k) => (
        <li key={k} class="chip">
          <span>
            {FILTER_LABEL[k]}: <strong>{route.params.get(k)}</strong>
          </span>
          <a
            href={withParams(route, { [k]: null, cursor: null, trail: null })}
            aria-label={`Remove filter ${FILTER_LABEL[k]} ${route.params.get(k) ?? ''}`}
            class="chip-remove"
          >
            ×
          </a>
        </li>
      ))}
      {active.length > 1 ? (
        <li>
          <a class="chip-clear" href={withParams(route, Object.fromEntries(active.map((k) => [k, null])))}>
            Clear all
          </a>
        </li>
      ) : null}
    </ul>
  );
}
