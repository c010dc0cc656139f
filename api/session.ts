import type { Context } from 'koa';
import { SESSION_COOKIE, signToken } from '../core/auth/tokens';
import type { User } from '../core/db/entities';
import type { ApiDeps } from './deps';

/** Starts a browser session: the JWT goes into an HTTP-only cookie that scripts cannot read. */
export function startSession(ctx: Context, deps: ApiDeps, user: User): void {
  const ttl = deps.config.sessionTtlSec;
  const token = signToken(deps.config.jwtSecret, { sub: user.id, tid: user.tenantId, role: user.role, kind: 'session' }, ttl);
  ctx.cookies.set(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'lax',
    secure: deps.config.cookieSecure,
    maxAge: ttl * 1000,
    overwrite: true,
  });
}

export function endSession(ctx: Context, deps: ApiDeps): void {
  ctx.cookies.set(SESSION_COOKIE, '', { httpOnly: true, sameSite: 'lax', secure: deps.config.cookieSecure, maxAge: 0, overwrite: true });
}
