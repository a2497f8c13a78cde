import { useEffect, useErrorBoundary } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import type { ApiError } from '../lib/api.js';

export function Loading({ what = 'data' }: { what?: string }) {
  return (
    <p class="state loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" /> Loading {what}…
    </p>
  );
}

const HINTS: Record<number, string> = {
  0: 'Check that the server is running and reachable from this browser.',
  400: 'A value in the address is not valid; change the filters or the range.',
  403: 'Your credential may not read this. A read key sees only its own tenant.',
  404: 'This server does not have it.',
  500: 'The server failed; its log has the details.',
  503: 'A store the server depends on is unavailable; try again shortly.',
};

/** A refused or failed API call, said plainly: never a blank panel. */
export function ErrorBox({ error, what }: { error: ApiError; what?: string }) {
  const hint = HINTS[error.status] ?? (error.status >= 500 ? HINTS[500] : undefined);
  return (
    <div class="state error" role="alert" data-testid="api-error">
      <strong>
        {what ? `Could not load ${what}` : 'Could not load this'}
        {error.status > 0 ? ` (${error.status} ${error.code})` : ''}
      </strong>
      <p>{error.message}</p>
      {hint ? <p class="muted">{hint}</p> : null}
    </div>
  );
}

/** A feature this server runs without, with how to turn it on. */
export function NotConfigured({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="state empty" data-testid="not-configured">
      <strong>{title}</strong>
      {children ? <p>{children}</p> : null}
    </div>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return (
    <div class="state empty" data-testid="empty">
      <p>{children}</p>
    </div>
  );
}

/**
 * A view that throws while rendering shows what failed instead of a frozen or blank page; the
 * next navigation tries again.
 */
export function ViewBoundary({ resetKey, children }: { resetKey: string; children: ComponentChildren }) {
  const [error, reset] = useErrorBoundary();
  useEffect(() => {
    if (error) reset();
    // Only a navigation resets: the error itself must stay on screen.
  }, [resetKey]);
  if (error) {
    return (
      <div class="state error" role="alert" data-testid="view-crash">
        <strong>This view failed to render</strong>
        <p>{error instanceof Error ? error.message : String(error)}</p>
        <p class="muted">Another view or a reload may work; the browser console has the details.</p>
      </div>
    );
  }
  return <>{children}</>;
}
