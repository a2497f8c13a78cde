/**
 * The credential: the admin token or a `read` key, kept in sessionStorage (gone with the tab) and
 * sent as a bearer token. A `pt-` key reads its own tenant only; the server enforces that, the
 * dashboard only hides what such a key cannot open (the admin API).
 */
const TOKEN = 'pertoken.token';

export type Role = 'admin' | 'key';

export function getToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN);
  } catch {
    return null;
  }
}

export function setToken(token: string): void {
  sessionStorage.setItem(TOKEN, token);
}

export function clearToken(): void {
  sessionStorage.removeItem(TOKEN);
}

export function roleOf(token: string): Role {
  return token.startsWith('pt-') ? 'key' : 'admin';
}
