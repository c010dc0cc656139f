import jwt from 'jsonwebtoken';
import type { Role } from '../db/entities';

/** Claims of both token kinds. `kind` tells a browser session from a server-to-server API token. */
export interface SessionClaims {
  sub: string;
  tid: string;
  role: Role;
  kind: 'session';
}

export interface ApiClaims {
  sub: string;
  tid: string;
  role: Role;
  kind: 'api';
  cid: string;
  /** When the credential was last rotated: a token minted before a rotation stops working at once. */
  rot: number;
}

export type TokenClaims = SessionClaims | ApiClaims;

export const SESSION_COOKIE = 'wdf_token';

export function signToken(secret: string, claims: TokenClaims, ttlSec: number): string {
  return jwt.sign(claims, secret, { algorithm: 'HS256', expiresIn: ttlSec, issuer: 'flowbot' });
}

export function verifyToken(secret: string, token: string): TokenClaims {
  return jwt.verify(token, secret, { algorithms: ['HS256'], issuer: 'flowbot' }) as TokenClaims;
}
