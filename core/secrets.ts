import fs from 'node:fs';
import path from 'node:path';
import { randomToken } from './ids';

/**
 * On the embedded stack the JWT secret is generated once and kept under DATA_DIR, so sessions survive a
 * restart without anyone having to configure a secret. In production JWT_SECRET must be set.
 */
export function loadOrCreateJwtSecret(dataDir: string, configured?: string): string {
  if (configured) return configured;
  const file = path.join(dataDir, 'jwt-secret');
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    fs.mkdirSync(dataDir, { recursive: true });
    const secret = randomToken(48);
    fs.writeFileSync(file, secret, { mode: 0o600, flag: 'wx' });
    return secret;
  }
}
