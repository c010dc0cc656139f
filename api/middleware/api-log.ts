import type { Middleware } from 'koa';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { Coalescer } from '../../core/db/coalescer';

interface ApiLogRow {
  request_id: string;
  tenant_id: string | null;
  user_id: string | null;
  method: string;
  path: string;
  status: number;
  duration_ms: number;
  ip: string | null;
}

const LOG_INTERVAL_MS = 200;

/**
 * Records each API request in `api_logs` after the answer is sent. The write is not awaited by the
 * request: a slow or failing log insert must never slow or fail the call it describes. Rows are written in
 * batches at most every LOG_INTERVAL_MS, so logging costs a few commits a second however busy the API is
 * (a row appears that much later, and the API's commits go to what callers wait for: webhooks' inbox rows).
 */
export function apiRequestLog(orm: MikroORM, logger: Logger): Middleware {
  const writer = new Coalescer<ApiLogRow, void>(
    async (rows) => {
      await orm.em.getConnection().execute(
        `insert into api_logs (request_id, tenant_id, user_id, method, path, status, duration_ms, ip)
         select r.request_id, r.tenant_id, r.user_id, r.method, r.path, r.status, r.duration_ms, r.ip
         from jsonb_to_recordset(?::jsonb) as r(request_id text, tenant_id uuid, user_id uuid, method text, path text, status integer, duration_ms integer, ip text)`,
        [JSON.stringify(rows)],
      );
      return rows.map(() => undefined);
    },
    { maxBatch: 2000, maxInFlight: 1, minIntervalMs: LOG_INTERVAL_MS },
  );
  return async (ctx, next) => {
    try {
      await next();
    } finally {
      if (ctx.path.startsWith('/api/') && ctx.path !== '/api/health') {
        const principal = ctx.state.principal;
        writer
          .submit({
            request_id: ctx.state.requestId,
            tenant_id: principal?.tenantId ?? null,
            user_id: principal?.userId ?? null,
            method: ctx.method,
            path: ctx.path.slice(0, 500),
            status: ctx.status,
            duration_ms: Math.round(Number(process.hrtime.bigint() - (ctx.state.startedAt as bigint)) / 1e6),
            ip: ctx.ip ?? null,
          })
          .catch((err: unknown) => logger.warn({ err }, 'could not record API request log'));
      }
    }
  };
}
