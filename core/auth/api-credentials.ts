import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ApiCredential, type User } from '../db/entities';
import { newId } from '../ids';

/**
 * API keys carry 192 bits of randomness, so a fast SHA-256 digest is enough to store them safely (a slow
 * password hash protects guessable secrets; these are not guessable) and keeps token exchange fast.
 */
export const hashApiKey = (apiKey: string): string => createHash('sha256').update(apiKey).digest('hex');

export function apiKeyMatches(credential: ApiCredential, apiKey: string): boolean {
  const given = Buffer.from(hashApiKey(apiKey), 'hex');
  const stored = Buffer.from(credential.keyHash, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}

const newClientId = () => `aiflow_${randomBytes(12).toString('hex')}`;
const newApiKey = () => `sk_${randomBytes(24).toString('hex')}`;

export interface RotatedCredential {
  clientId: string;
  apiKey: string;
  rotatedAt: Date;
}

/**
 * Issues the account's key, replacing the previous one. The client id stays stable across rotations so
 * integrators only swap the secret; the old key stops working as soon as this commits.
 */
export async function rotateApiKey(em: EntityManager, user: User): Promise<RotatedCredential> {
  const apiKey = newApiKey();
  // Millisecond precision, because the rotation time is compared with the one inside issued tokens.
  const rotatedAt = new Date(Math.floor(Date.now()));
  let credential = await em.findOne(ApiCredential, { userId: user.id });
  if (!credential) {
    credential = em.create(ApiCredential, {
      id: newId(),
      tenantId: user.tenantId,
      userId: user.id,
      clientId: newClientId(),
      keyHash: hashApiKey(apiKey),
      keyPrefix: apiKey.slice(0, 7),
      rotatedAt,
    });
  } else {
    credential.keyHash = hashApiKey(apiKey);
    credential.keyPrefix = apiKey.slice(0, 7);
    credential.rotatedAt = rotatedAt;
  }
  await em.flush();
  return { clientId: credential.clientId, apiKey, rotatedAt };
}
