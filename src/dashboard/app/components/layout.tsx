import type { ComponentChildren } from 'preact';
import { FILTER_KEYS, href, type Route, type View } from '../lib/route.js';
import type { Role } from '../lib/session.js';

const NAV: ReadonlyArray<{ view: View; label: string }> = [
  { view: 'executive', label: 'Executive' },
  { view: 'oncall', label: 'On-call' },
  { view: 'debug', label: 'Debug' },
  { view: 'budgets', label: 'Budgets & keys' },
  { view: 'chargeback', label: 'Chargeback' },
  { view: 'reconciliation', label: 'Reconciliation' },
  { view: 'alerts', label: 'Alerts' },
  { view: 'pools', label: 'Pools' },
];

/** What a nav link carries from here: the zone, the filters and an explicit range. */
function carried(route: Route): Record<string, string | null> {
  const keep: Record<string, string | null> = {};
  for (const k of ['tz', 'range', 'from', 'to', ...FILTER_KEYS]) keep[k] = route.params.get(k);
  return keep;
}

export function Shell({
  route,
  role,
  theme,
  onToggleTheme,
  onSignOut,
  children,
}: {
  route: Route;
  role: Role;
  theme: 'light' | 'dark';
  onToggleTheme: () => void;
  onSignOut: () => void;
  children: ComponentChildren;
}) {
  const current = route.view === 'request' ? 'debug' : route.view;
  const keep = carried(route);
  return (
    <div class="shell">
      <button type="button" class="skip-link" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <header class="topbar">
        <a class="brand" href={href('executive', { tz: keep.tz })}>
          <span class="brand-mark" aria-hidden="true">
            ¢
          </span>
          <span>pertoken</span>
        </a>
        <div class="topbar-right">
          <span
            class="role-badge"
            title={role === 'admin' ? 'Signed in with the admin token' : 'Signed in with a read key'}
          >
            {role === 'admin' ? 'Admin' : 'Read key'}
          </span>
          <button
            type="button"
            class="button ghost"
            onClick={onToggleTheme}
            aria-label={theme === 'dark' ? 'Switch to light theme' : 'Switch to dark theme'}
            data-testid="theme-toggle"
          >
            {theme === 'dark' ? '☀ Light' : '☾ Dark'}
          </button>
          <button type="button" class="button ghost" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <nav class="tabs" aria-label="Views">
        <ul>
          {NAV.map((n) => (
            <li key={n.view}>
              <a
                href={href(n.view, keep)}
                aria-current={current === n.view ? 'page' : undefined}
                data-testid={`nav-${n.view}`}
              >
                {n.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1} class="content">
        {children}
      </main>
    </div>
  );
}

export function PageHead({
  title,
  sub,
  children,
}: {
  title: string;
  sub?: ComponentChildren;
  children?: ComponentChildren;
}) {
  return (
    <div class="page-head">
      <div>
        <h1>{title}</h1>
        {sub ? <p class="muted page-sub">{sub}</p> : null}
      </div>
      {children ? <div class="page-controls">{children}</div> : null}
    </div>
  );
}
