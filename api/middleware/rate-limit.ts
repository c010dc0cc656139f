import type { Middleware } from 'koa';
import type { MikroORM } from '@mikro-orm/postgresql';
import { AppError } from '../../core/errors';

/**
 * A fixed-window counter in PostgreSQL, so every API replica shares one count per key. One upsert per
 * request; old windows are pruned now and then by the same statement path.
 */
export function rateLimit(opts: {
  orm: MikroORM;
  name: string;
  max: number;
  windowSec: number;
  keyOf: (ctx: Parameters<Middleware>[0]) => string;
  message?: string;
}): Middleware {
  return async (ctx, next) => {
    const windowMs = opts.windowSec * 1000;
    const now = Date.now();
    const windowStart = new Date(Math.floor(now / windowMs) * windowMs);
    const key = `${opts.name}:${opts.keyOf(ctx)}`;
    const conn = opts.orm.em.getConnection();
    const rows = await conn.execute<{ hits: number }[]>(
      `insert into rate_limit_hits (key, window_start, hits) values (?, ?, 1)
       on conflict (key, window_start) do update set hits = rate_limit_hits.hits + 1
       returning hits`,
      [key, windowStart],
    );
    if (Math.random() < 0.01) {
      await conn.execute(`delete from rate_limit_hits where window_start < ?`, [new Date(now - 2 * windowMs)]);
    }
    const hits = Number(rows[0]?.hits ?? 0);
    const retryAfterSec = Math.max(1, Math.ceil((windowStart.getTime() + windowMs - now) / 1000));
    ctx.set('RateLimit-Limit', String(opts.max));
    ctx.set('RateLimit-Remaining', String(Math.max(0, opts.max - hits)));
    if (hits > opts.max) {
      throw new AppError(
        'rate_limited',
        opts.message ?? `Too many requests: at most ${opts.max} per ${Math.round(opts.windowSec / 60)} minutes; retry in ${retryAfterSec} s`,
        { retryAfterSec },
      );
    }
    return next();
  };
}

export const clientIp = (ctx: Parameters<Middleware>[0]): string => ctx.ip || 'unknown';
