import { Socket } from 'node:net';

/** Test helpers for the servers tests depend on: PostgreSQL and Redis (excluded from the build). */

const DEFAULT_PORTS: Readonly<Record<string, number>> = {
  'postgres:': 5432,
  'postgresql:': 5432,
  'redis:': 6379,
  'rediss:': 6379,
};

/** The host and port a postgres:// or redis:// URL connects to, the scheme's default port included. */
export function serverAddress(url: string | URL): { host: string; port: number } {
  const parsed = new URL(url);
  const port = parsed.port === '' ? DEFAULT_PORTS[parsed.protocol] : Number(parsed.port);
  if (port === undefined) throw new Error(`no port in ${parsed.protocol} URL ${parsed.href}`);
  // [::1] -> ::1; no host at all means the local machine, as for the database clients.
  const host = parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  return { host, port };
}

/** Whether a TCP connection to the URL's server opens within `timeoutMs` (no protocol spoken). */
export function canReach(url: string, timeoutMs: number): Promise<boolean> {
  const { host, port } = serverAddress(url);
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host, () => done(true));
  });
}
