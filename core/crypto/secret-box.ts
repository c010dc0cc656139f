import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Config } from '../config';
import { readOrCreateSecretFile } from '../secrets';

/**
 * Encryption at rest for the secrets FlowBot must give back in clear (channel access tokens): AES-256-GCM
 * with a random 96-bit nonce. A sealed value reads `v1:<key id>:<base64url(nonce | ciphertext | tag)>`:
 * `v1` is the format, the key id says which key sealed it, so several keys can be configured while a key
 * is rotated (the first one seals, any of them opens) and a value sealed with a key this process lacks
 * fails with a message that says so instead of a bare authentication error.
 */
export interface SecretBox {
  /** The id of the key that seals; shown in errors and logs, it reveals nothing about the key. */
  readonly keyId: string;
  /** `context` is bound to the ciphertext (AES-GCM associated data), e.g. the row it belongs to. */
  seal(plaintext: string, context?: string): string;
  open(sealed: string, context?: string): string;
}

const FORMAT = 'v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

interface Key {
  id: string;
  bytes: Buffer;
}

/** Any key text of enough entropy is stretched to 256 bits; its id is a short digest of the result. */
function deriveKey(secret: string): Key {
  const bytes = Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), 'flowbot', 'secret-box v1', 32));
  const id = createHash('sha256').update('flowbot key id').update(bytes).digest('hex').slice(0, 8);
  return { id, bytes };
}

/** `secrets[0]` seals; every one of them opens. */
export function createSecretBox(secrets: string[]): SecretBox {
  if (secrets.length === 0) throw new Error('createSecretBox needs at least one key');
  const keys = secrets.map(deriveKey);
  const byId = new Map(keys.map((k) => [k.id, k]));
  const current = keys[0];
  return {
    keyId: current.id,
    seal(plaintext, context = '') {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', current.bytes, nonce);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([nonce, cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `${FORMAT}:${current.id}:${body.toString('base64url')}`;
    },
    open(sealed, context = '') {
      const [format, keyId, encoded, ...rest] = sealed.split(':');
      if (format !== FORMAT || !keyId || encoded === undefined || rest.length) throw new Error('Not a sealed secret (expected v1:<key id>:<data>)');
      const key = byId.get(keyId);
      if (!key) throw new Error(`Secret was sealed with key ${keyId}, which is not configured here (ENCRYPTION_KEY must be the same for every process)`);
      const body = Buffer.from(encoded, 'base64url');
      if (body.length < NONCE_BYTES + TAG_BYTES) throw new Error('Sealed secret is truncated');
      const decipher = createDecipheriv('aes-256-gcm', key.bytes, body.subarray(0, NONCE_BYTES));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      try {
        return Buffer.concat([decipher.update(body.subarray(NONCE_BYTES, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
      } catch {
        throw new Error(`Sealed secret failed authentication with key ${keyId}: it was altered or belongs elsewhere`);
      }
    },
  };
}

/**
 * On the embedded stack the key is generated once and kept under DATA_DIR (as the JWT secret is), so nobody
 * has to configure one. Every process that reads the secrets (api and workers) must see the same key:
 * beyond one machine, set ENCRYPTION_KEY.
 */
export function loadOrCreateEncryptionKey(dataDir: string): string {
  return readOrCreateSecretFile(path.join(dataDir, 'encryption-key'), () => randomBytes(32).toString('base64url'));
}

const boxes = new Map<string, SecretBox>();

/** The process's box, built once per configuration. */
export function secretBoxFor(config: Pick<Config, 'env' | 'dataDir' | 'encryptionKeys'>): SecretBox {
  const cacheKey = `${config.dataDir}\n${config.encryptionKeys.join(',')}`;
  let box = boxes.get(cacheKey);
  if (!box) {
    if (config.encryptionKeys.length === 0 && config.env === 'production') {
      throw new Error('ENCRYPTION_KEY is required in production (every api and worker process must share it)');
    }
    box = createSecretBox(config.encryptionKeys.length ? config.encryptionKeys : [loadOrCreateEncryptionKey(config.dataDir)]);
    boxes.set(cacheKey, box);
  }
  return box;
}
