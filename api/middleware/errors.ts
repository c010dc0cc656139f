import type { Middleware } from 'koa';
import { AppError, httpStatusOf } from '../../core/errors';

/**
 * The one place that turns failures into HTTP. Every error body is `{"error": "..."}`; an unexpected failure
 * is a 500 with a generic message and the request id, while the details go to the log only.
 */
export function errorHandler(): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        ctx.status = 404;
        ctx.body = { error: `No route for ${ctx.method} ${ctx.path}` };
      } else if ((ctx.status === 405 || ctx.status === 501) && ctx.body === undefined) {
        // The router answers 501 for methods it has no route for at all (TRACE…): for a client it is the same 405.
        ctx.status = 405;
        ctx.body = { error: `Method ${ctx.method} is not allowed on ${ctx.path}` };
      }
    } catch (err) {
      if (err instanceof AppError) {
        ctx.status = httpStatusOf(err.kind);
        if (err.details.retryAfterSec !== undefined) ctx.set('Retry-After', String(err.details.retryAfterSec));
        ctx.body = { error: err.message };
        if (err.kind === 'unavailable') ctx.state.log?.warn({ err }, 'dependency unavailable');
        return;
      }
      const status = (err as { status?: number; expose?: boolean }).status;
      if (status && status >= 400 && status < 500) {
        // Errors thrown by Koa itself and its middleware (koa-jwt, router) carry a client status.
        ctx.status = status;
        ctx.body = { error: (err as Error).message || 'Bad request' };
        return;
      }
      if (isDatabaseDown(err)) {
        ctx.status = 503;
        ctx.body = { error: 'The database is unavailable; try again shortly' };
        ctx.state.log?.error({ err }, 'database unavailable');
        return;
      }
      ctx.status = 500;
      ctx.body = { error: `Internal server error (request id ${ctx.state.requestId})` };
      ctx.state.log?.error({ err }, 'unhandled error');
    }
  };
}

const connectionErrorCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P03', '08006', '08001']);

function isDatabaseDown(err: unknown): boolean {
  const e = err as { code?: string; message?: string; name?: string };
  if (e.code && connectionErrorCodes.has(e.code)) return true;
  if (e.name === 'ConnectionException') return true;
  return /Knex: Timeout acquiring a connection|Connection terminated|connect ECONNREFUSED/.test(e.message ?? '');
}
