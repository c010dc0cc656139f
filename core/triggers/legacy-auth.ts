import { createHmac, timingSafeEqual } from 'node:crypto';

/** The per-flow authentication modes the seed keeps for older integrations (the API JWT is preferred). */
export type LegacyAuth =
  | { mode: 'jwt' }
  | { mode: 'none' }
  | { mode: 'api_key'; header: string; key: string }
  | { mode: 'basic'; username: string; password: string }
  | { mode: 'bearer'; token: string }
  | { mode: 'hmac'; secret: string; header: string };

const same = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * Whether a request passes the flow's legacy authentication. HMAC is the hex HMAC-SHA256 of the raw body
 * (what `openssl dgst -sha256 -hmac` prints), with or without a `sha256=` prefix.
 */
export function passesLegacyAuth(auth: LegacyAuth, req: { header(name: string): string; rawBody: Buffer }): boolean {
  switch (auth.mode) {
    case 'jwt':
      return false;
    case 'none':
      return true;
    case 'api_key':
      return same(req.header(auth.header), auth.key);
    case 'bearer': {
      const m = /^Bearer\s+(.+)$/i.exec(req.header('authorization'));
      return m !== null && same(m[1].trim(), auth.token);
    }
    case 'basic': {
      const m = /^Basic\s+(.+)$/i.exec(req.header('authorization'));
      if (!m) return false;
      const decoded = Buffer.from(m[1], 'base64').toString('utf8');
      return same(decoded, `${auth.username}:${auth.password}`);
    }
    case 'hmac': {
      const given = req.header(auth.header).trim().replace(/^sha256=/i, '').toLowerCase();
      const expected = createHmac('sha256', auth.secret).update(req.rawBody).digest('hex');
      return /^[0-9a-f]{64}$/.test(given) && same(given, expected);
    }
  }
}
