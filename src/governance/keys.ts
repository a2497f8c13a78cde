import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { KEY_ID } from '../ids.js';
import type { SecretHash } from './types.js';

/**
 * Virtual key strings: `pt-<id>-<secret>`. The id (no `-` in it) finds the record; the secret is
 * verified against a hash. 32 random bytes of secret (256 bits, base64url) make guessing and
 * offline brute force hopeless, so a fast hash is the right one (bcrypt/argon2 protect
 * low-entropy passwords and would cost milliseconds on every request).
 *
 * Hash: SHA-256(salt || key) with a random 16-byte salt per secret, rather than an HMAC under a
 * server secret. With 256-bit keys a pepper adds no brute-force resistance, while a server secret
 * must be generated, distributed identically to every replica, kept out of backups and never lost
 * (losing it invalidates every key). The salt keeps two equal secrets (a key declared twice) from
 * producing equal hashes. Keys declared in config as `key_sha256` have an empty salt.
 */

export const KEY_PREFIX = 'pt-';
const SECRET_BYTES = 32;
const KEY_PATTERN = new RegExp(`^pt-(${KEY_ID.pattern.source.slice(1, -1)})-([A-Za-z0-9_-]{16,256})$`);
const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** A fresh key id: `k` + 15 random base32 characters (75 bits). */
export function newKeyId(): string {
  const bytes = randomBytes(15);
  let id = 'k';
  for (const byte of bytes) id += ID_ALPHABET[byte & 31];
  return id;
}

export function newKeySecret(id: string): string {
  return `${KEY_PREFIX}${id}-${randomBytes(SECRET_BYTES).toString('base64url')}`;
}

/** The id part of a presented key, or null when it is not shaped like a virtual key. */
export function parseKeyId(presented: string): string | null {
  const match = KEY_PATTERN.exec(presented);
  return match ? (match[1] as string) : null;
}

export function looksLikeVirtualKey(presented: string): boolean {
  return presented.startsWith(KEY_PREFIX);
}

export function hashSecret(key: string, salt = randomBytes(16).toString('hex')): SecretHash {
  return { salt, hash: digest(salt, key).toString('hex') };
}

/** Hash of a config-declared `key_sha256` (unsalted SHA-256 hex of the full key). */
export function presetHash(sha256Hex: string): SecretHash {
  return { salt: '', hash: sha256Hex };
}

/** Constant-time: both sides are 32-byte digests, compared with timingSafeEqual. */
export function verifySecret(key: string, stored: SecretHash): boolean {
  const expected = Buffer.from(stored.hash, 'hex');
  if (expected.length !== 32) return false;
  return timingSafeEqual(digest(stored.salt, key), expected);
}

function digest(salt: string, key: string): Buffer {
  return createHash('sha256').update(salt).update(key).digest();
}
