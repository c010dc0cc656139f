import type { Middleware } from 'koa';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';

/**
 * Records each API request in `api_logs` after the answer is sent. The write is not awaited by the
 * request: a slow or failing log insert must never slow or fail the call it describes.
 */
export function apiRequestLog(orm: MikroORM, logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } finally {
      if (ctx.path.startsWith('/api/') && ctx.path !== '/api/health') {
        const principal = ctx.state.principal;
        orm.em
          .getConnection()
          .execute(
            `insert into api_logs (request_id, tenant_id, user_id, method, path, status, duration_ms, ip) values (?, ?, ?, ?, ?, ?, ?, ?)`,
            [
              ctx.state.requestId,
              principal?.tenantId ?? null,
              principal?.userId ?? null,
              ctx.method,
              ctx.path.slice(0, 500),
              ctx.status,
              Math.round(Number(process.hrtime.bigint() - (ctx.state.startedAt as bigint)) / 1e6),
              ctx.ip ?? null,
            ],
          )
          .catch((err: unknown) => logger.warn({ err }, 'could not record API request log'));
      }
    }
  };
}
