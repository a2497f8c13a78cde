import { useState } from 'preact/hooks';
import { ApiError, apiGet, apiUrl } from '../lib/api.js';
import { setToken } from '../lib/session.js';

/**
 * One field, submitted with Enter: the admin token or a `read` key. It is checked against the
 * read API before it is kept, so a wrong token is refused here with the server's reason.
 */
export function SignIn({ message, onSignedIn }: { message: string | null; onSignedIn: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const token = String(new FormData(form).get('token') ?? '').trim();
    if (token === '') {
      setError('Enter the admin token or a key with the read scope.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const now = Date.now();
      await apiGet(
        apiUrl('/api/v1/costs', { from: new Date(now - 3_600_000).toISOString(), to: new Date(now).toISOString() }),
        undefined,
        token,
      );
      setToken(token);
      onSignedIn();
    } catch (err: unknown) {
      if (err instanceof ApiError && err.status === 401) setError(`The server refused this token: ${err.message}`);
      else if (err instanceof ApiError && err.status === 403)
        setError(`This credential cannot read the API: ${err.message}`);
      else setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="signin" id="main">
      <form class="signin-card" onSubmit={submit} aria-describedby="signin-help">
        <div class="brand-mark large" aria-hidden="true">
          ¢
        </div>
        <h1>pertoken</h1>
        <p id="signin-help" class="muted">
          Sign in with the admin token (<code>PERTOKEN_ADMIN_TOKEN</code>) or a virtual key with the <code>read</code>{' '}
          scope. A key sees its own tenant only. The token stays in this tab.
        </p>
        {message ? (
          <p class="notice" role="status" data-testid="signin-message">
            {message}
          </p>
        ) : null}
        <label class="field block">
          <span>Token or key</span>
          <input name="token" type="password" autocomplete="off" spellcheck={false} required autoFocus />
        </label>
        {error ? (
          <p class="form-error" role="alert" data-testid="signin-error">
            {error}
          </p>
        ) : null}
        <button class="button primary" type="submit" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
