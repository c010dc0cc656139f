import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createSecretBox, loadOrCreateEncryptionKey, secretBoxFor } from '../../core/crypto/secret-box';

const key = 'a-long-enough-encryption-key-0001';
const otherKey = 'another-encryption-key-of-length-2';

describe('secret box', () => {
  it('opens what it sealed, and the sealed text carries the format and key id, not the secret', () => {
    const box = createSecretBox([key]);
    const sealed = box.seal('EAAG-secret-access-token', 'line-1');
    expect(sealed).toMatch(new RegExp(`^v1:${box.keyId}:[A-Za-z0-9_-]+$`));
    expect(sealed).not.toContain('secret-access-token');
    expect(box.open(sealed, 'line-1')).toBe('EAAG-secret-access-token');
    // A fresh nonce each time: the same secret never seals to the same text.
    expect(box.seal('EAAG-secret-access-token', 'line-1')).not.toBe(sealed);
  });

  it('refuses a sealed value that was altered', () => {
    const box = createSecretBox([key]);
    const sealed = box.seal('token-value-1234', 'line-1');
    const [format, keyId, data] = sealed.split(':');
    const bytes = Buffer.from(data, 'base64url');
    bytes[bytes.length - 20] ^= 0x01;
    expect(() => box.open(`${format}:${keyId}:${bytes.toString('base64url')}`, 'line-1')).toThrow(/altered/);
    expect(() => box.open(sealed.slice(0, -2), 'line-1')).toThrow();
  });

  it('refuses a sealed value moved to another context (row)', () => {
    const box = createSecretBox([key]);
    expect(() => box.open(box.seal('token-value-1234', 'line-1'), 'line-2')).toThrow(/altered or belongs elsewhere/);
  });

  it('refuses to open with a different key, naming the key it needs', () => {
    const sealed = createSecretBox([key]).seal('token-value-1234');
    const wrong = createSecretBox([otherKey]);
    expect(() => wrong.open(sealed)).toThrow(/sealed with key [0-9a-f]{8}, which is not configured/);
    // Same key id but other key bytes (a forged prefix) still fails authentication.
    const forged = sealed.replace(/^v1:[0-9a-f]{8}:/, `v1:${wrong.keyId}:`);
    expect(() => wrong.open(forged)).toThrow(/failed authentication/);
  });

  it('keeps opening values sealed with an older key during rotation, and seals with the first', () => {
    const old = createSecretBox([key]);
    const sealedBefore = old.seal('token-value-1234');
    const rotated = createSecretBox([otherKey, key]);
    expect(rotated.open(sealedBefore)).toBe('token-value-1234');
    expect(rotated.keyId).not.toBe(old.keyId);
    expect(rotated.seal('x').startsWith(`v1:${rotated.keyId}:`)).toBe(true);
  });

  it('generates a key file once under DATA_DIR and reuses it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'secret-box-'));
    const first = loadOrCreateEncryptionKey(dir);
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(fs.statSync(path.join(dir, 'encryption-key')).mode & 0o777).toBe(0o600);
    expect(loadOrCreateEncryptionKey(dir)).toBe(first);
    const sealed = secretBoxFor({ env: 'test', dataDir: dir, encryptionKeys: [] }).seal('token-value-1234');
    expect(createSecretBox([first]).open(sealed)).toBe('token-value-1234');
  });

  it('demands ENCRYPTION_KEY in production', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'secret-box-'));
    expect(() => secretBoxFor({ env: 'production', dataDir: dir, encryptionKeys: [] })).toThrow(/ENCRYPTION_KEY/);
    expect(secretBoxFor({ env: 'production', dataDir: dir, encryptionKeys: [key] }).keyId).toBe(createSecretBox([key]).keyId);
  });
});
