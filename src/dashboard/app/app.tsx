import { useEffect, useMemo, useState } from 'preact/hooks';
import { Shell } from './components/layout.js';
import { ViewBoundary } from './components/states.js';
import { UNAUTHORIZED_EVENT } from './lib/api.js';
import { useRoute } from './lib/route.js';
import { clearToken, getToken, roleOf } from './lib/session.js';
import { useTheme } from './lib/theme.js';
import { clearApiCache } from './lib/use-api.js';
import { Alerts } from './views/alerts.js';
import { Budgets } from './views/budgets.js';
import { Chargeback } from './views/chargeback.js';
import type { ViewProps } from './views/common.js';
import { Debug } from './views/debug.js';
import { Executive } from './views/executive.js';
import { OnCall } from './views/oncall.js';
import { Pools } from './views/pools.js';
import { Reconciliation } from './views/reconciliation.js';
import { RequestView } from './views/request.js';
import { SignIn } from './views/signin.js';

const VIEW_COMPONENTS = {
  executive: Executive,
  oncall: OnCall,
  debug: Debug,
  request: RequestView,
  budgets: Budgets,
  chargeback: Chargeback,
  reconciliation: Reconciliation,
  alerts: Alerts,
  pools: Pools,
} as const;

const TITLES: Record<keyof typeof VIEW_COMPONENTS, string> = {
  executive: 'Executive',
  oncall: 'On-call',
  debug: 'Debug',
  request: 'Request',
  budgets: 'Budgets & keys',
  chargeback: 'Chargeback',
  reconciliation: 'Reconciliation',
  alerts: 'Alerts',
  pools: 'Pools',
};

export function App() {
  const [token, setTokenState] = useState<string | null>(getToken);
  const [message, setMessage] = useState<string | null>(null);
  const route = useRoute();
  const { theme, toggle } = useTheme();
  // Relative ranges are computed from one instant per navigation (to the minute, so that going
  // back to a view asks the same URLs and is answered from the short cache).
  const now = useMemo(() => Math.floor(Date.now() / 60_000) * 60_000, [route.hash]);

  useEffect(() => {
    const onUnauthorized = (e: Event): void => {
      clearApiCache();
      setTokenState(null);
      const detail = e instanceof CustomEvent && typeof e.detail === 'string' ? e.detail : '';
      setMessage(`The server no longer accepts this token${detail ? ` (${detail})` : ''}. Sign in again.`);
    };
    window.addEventListener(UNAUTHORIZED_EVENT, onUnauthorized);
    return () => window.removeEventListener(UNAUTHORIZED_EVENT, onUnauthorized);
  }, []);

  useEffect(() => {
    document.title = token ? `${TITLES[route.view]} · pertoken` : 'Sign in · pertoken';
  }, [route.view, token]);

  if (token === null) {
    return (
      <SignIn
        message={message}
        onSignedIn={() => {
          clearApiCache();
          setMessage(null);
          setTokenState(getToken());
        }}
      />
    );
  }
  const View = VIEW_COMPONENTS[route.view];
  const props: ViewProps = { route, now, theme, role: roleOf(token) };
  return (
    <Shell
      route={route}
      role={props.role}
      theme={theme}
      onToggleTheme={toggle}
      onSignOut={() => {
        clearToken();
        clearApiCache();
        setMessage('Signed out.');
        setTokenState(null);
      }}
    >
      <ViewBoundary resetKey={route.hash}>
        <View key={route.view} {...props} />
      </ViewBoundary>
    </Shell>
  );
}
