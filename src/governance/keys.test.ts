import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashSecret, newKeyId, newKeySecret, parseKeyId, presetHash, verifySecret } from './keys.js';

describe('virtual key strings', () => {
  it('are pt-<id>-<secret> with a 256-bit secret; the id is parsed back for lookup', () => {
    const id = newKeyId();
    expect(id).toMatch(/^k[a-z2-7]{15}$/);
    const key = newKeySecret(id);
    expect(key.startsWith(`pt-${id}-`)).toBe(true);
    expect(Buffer.from(key.slice(`pt-${id}-`.length), 'base64url')).toHaveLength(32);
    expect(parseKeyId(key)).toBe(id);
  });

  it('rejects strings that are not shaped like a key', () => {
    expect(parseKeyId('sk-openai-123')).toBeNull();
    expect(parseKeyId('pt-')).toBeNull();
    expect(parseKeyId('pt-Upper-aaaaaaaaaaaaaaaaaaaa')).toBeNull();
    expect(parseKeyId('pt-abc-short')).toBeNull();
  });

  it('stores a salted SHA-256, never the key, and verifies only the exact key', () => {
    const key = newKeySecret('abc');
    const stored = hashSecret(key);
    expect(stored.hash).toHaveLength(64);
    expect(stored.salt).toHaveLength(32);
    expect(JSON.stringify(stored)).not.toContain(key.slice(8));
    expect(verifySecret(key, stored)).toBe(true);
    expect(verifySecret(key + 'x', stored)).toBe(false);
    expect(verifySecret(key.slice(0, -1), stored)).toBe(false);
    // Two hashes of the same key differ by their salt.
    expect(hashSecret(key).hash).not.toBe(stored.hash);
  });

  it('verifies a config key given as its unsalted SHA-256', () => {
    const key = newKeySecret('ci_bot');
    const hex = createHash('sha256').update(key).digest('hex');
    expect(verifySecret(key, presetHash(hex))).toBe(true);
    expect(verifySecret(key, presetHash('00'.repeat(32)))).toBe(false);
    expect(verifySecret(key, presetHash('not-hex'))).toBe(false);
  });
});
