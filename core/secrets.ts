import fs from 'node:fs';
import path from 'node:path';
import { randomToken } from './ids';

/**
 * A secret generated once and kept in `file` (mode 0600), for the embedded stack where nobody configured
 * one. Safe when several processes start at once: the first to create the file wins, the others read it.
 */
export function readOrCreateSecretFile(file: string, generate: () => string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    try {
      fs.writeFileSync(file, generate(), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    return fs.readFileSync(file, 'utf8').trim();
  }
}

/**
 * On the embedded stack the JWT secret is generated once and kept under DATA_DIR, so sessions survive a
 * restart without anyone having to configure a secret. In production JWT_SECRET must be set.
 */
export function loadOrCreateJwtSecret(dataDir: string, configured?: string): string {
  return configured ?? readOrCreateSecretFile(path.join(dataDir, 'jwt-secret'), () => randomToken(48));
}
