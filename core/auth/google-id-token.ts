import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { AppError } from '../errors';

/** What a verified Google ID token tells us about the person signing in. */
export interface GoogleIdentity {
  sub: string;
  email?: string;
  emailVerified: boolean;
  name?: string;
}

const MAX_AGE_MS = 10 * 60 * 1000;
/** An unknown key id triggers a refetch (Google rotates keys), but at most this often per key set. */
const REFETCH_COOLDOWN_MS = 30 * 1000;
const FETCH_TIMEOUT_MS = 5000;

/**
 * Google's signing keys, fetched from a JWKS URL and cached per URL in the process. Stale keys are kept when
 * a refetch fails, so a short outage of the key server does not stop sign-ins with known keys.
 */
class RemoteKeySet {
  private keys = new Map<string, KeyObject>();
  private fetchedAt = 0;
  private pending?: Promise<void>;

  constructor(private readonly url: string) {}

  async key(kid: string | undefined): Promise<KeyObject | undefined> {
    const age = Date.now() - this.fetchedAt;
    const known = this.pick(kid);
    if (known && age < MAX_AGE_MS) return known;
    if (age >= REFETCH_COOLDOWN_MS) {
      try {
        await (this.pending ??= this.refresh().finally(() => (this.pending = undefined)));
      } catch (err) {
        if (!known) throw new AppError('unavailable', `Could not fetch Google's signing keys: ${(err as Error).message}`);
      }
    }
    return this.pick(kid) ?? known;
  }

  /** Without a key id, a token can only be checked against a set that holds one key. */
  private pick(kid: string | undefined): KeyObject | undefined {
    if (kid !== undefined) return this.keys.get(kid);
    return this.keys.size === 1 ? [...this.keys.values()][0] : undefined;
  }

  private async refresh(): Promise<void> {
    const res = await fetch(this.url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`${this.url} answered ${res.status}`);
    const body = (await res.json()) as { keys?: (JsonWebKey & { kid?: string; use?: string })[] };
    const keys = new Map<string, KeyObject>();
    for (const jwk of body.keys ?? []) {
      if (jwk.kty !== 'RSA' || (jwk.use && jwk.use !== 'sig')) continue;
      keys.set(jwk.kid ?? '', createPublicKey({ key: jwk, format: 'jwk' }));
    }
    this.keys = keys;
    this.fetchedAt = Date.now();
  }
}

const keySets = new Map<string, RemoteKeySet>();
const keySetFor = (url: string): RemoteKeySet => {
  let set = keySets.get(url);
  if (!set) keySets.set(url, (set = new RemoteKeySet(url)));
  return set;
};

/**
 * Verifies a Google ID token: RS256 signature by one of the keys at `jwksUrl`, issuer, audience (our OAuth
 * client id) and expiry. Google writes the issuer with or without `https://`, so both forms are accepted.
 * Any failure is `unauthenticated`; only an unreachable key server is `unavailable`.
 */
export async function verifyGoogleIdToken(
  idToken: string,
  opts: { jwksUrl: string; issuer: string; clientId: string },
): Promise<GoogleIdentity> {
  const decoded = jwt.decode(idToken, { complete: true });
  if (!decoded || typeof decoded.payload === 'string') throw new AppError('unauthenticated', 'Invalid Google ID token: not a JWT');
  if (decoded.header.alg !== 'RS256') throw new AppError('unauthenticated', 'Invalid Google ID token: unexpected signing algorithm');
  const key = await keySetFor(opts.jwksUrl).key(decoded.header.kid);
  if (!key) throw new AppError('unauthenticated', 'Invalid Google ID token: signed by an unknown key');
  const bare = opts.issuer.replace(/^https:\/\//, '');
  let claims: jwt.JwtPayload;
  try {
    claims = jwt.verify(idToken, key, {
      algorithms: ['RS256'],
      audience: opts.clientId,
      issuer: bare === opts.issuer ? opts.issuer : [opts.issuer, bare],
      clockTolerance: 5,
    }) as jwt.JwtPayload;
  } catch (err) {
    if (err instanceof jwt.TokenExpiredError) throw new AppError('unauthenticated', 'Google ID token expired: sign in with Google again');
    throw new AppError('unauthenticated', `Invalid Google ID token: ${(err as Error).message}`);
  }
  if (typeof claims.sub !== 'string' || !claims.sub) throw new AppError('unauthenticated', 'Invalid Google ID token: no subject');
  const email = typeof claims.email === 'string' && claims.email ? claims.email.trim().toLowerCase() : undefined;
  return {
    sub: claims.sub,
    email,
    // Older tokens carried the flag as a string.
    emailVerified: Boolean(email) && (claims.email_verified === true || claims.email_verified === 'true'),
    name: typeof claims.name === 'string' && claims.name.trim() ? claims.name.trim() : undefined,
  };
}
