import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { canReach } from './net.js';

/** Test helpers that talk to a harness over HTTP. */
export const ADMIN = 'test-admin-token';

export function uniquePrefix(): string {
  return `pertoken-test-${randomBytes(6).toString('hex')}:`;
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: Record<string, unknown>;
}

/** One JSON call; `token` null sends no credentials. */
export async function call(
  base: string,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
  token: string | null = ADMIN,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const res = await request(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.body.text();
  const json = text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : { text };
  return { status: res.statusCode, headers: res.headers, json };
}

/** A small chat call through the gateway. */
export function chat(
  base: string,
  key: string | null,
  model = 'gpt-4o-mini',
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<Reply> {
  return call(
    base,
    'POST',
    '/v1/chat/completions',
    { model, max_tokens: 16, messages: [{ role: 'user', content: 'Say hello' }], ...extra },
    key,
    headers,
  );
}

/** Polls `check` until it returns true or the deadline passes; returns whether it did. */
export async function eventually(check: () => Promise<boolean>, deadlineMs: number, stepMs = 20): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return check();
}

/** Whether Redis answers at 127.0.0.1:6379 (CI must have it; elsewhere its tests are skipped visibly). */
export function redisAvailable(url = 'redis://127.0.0.1:6379'): Promise<boolean> {
  return canReach(url, 500);
}
