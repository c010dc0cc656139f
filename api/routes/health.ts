import { z } from 'zod';
import { temporalIsUp } from '../../core/temporal/connect';
import type { ApiDeps } from '../deps';
import { route } from '../route';

const dependency = z.object({ ok: z.boolean(), latencyMs: z.number().optional(), error: z.string().optional() });
const healthResponse = z.object({ status: z.enum(['ok', 'unavailable']), database: dependency, temporal: dependency });

async function timed(check: () => Promise<boolean>) {
  const started = Date.now();
  try {
    const ok = await check();
    return ok ? { ok, latencyMs: Date.now() - started } : { ok, error: 'not reachable' };
  } catch (err) {
    return { ok: false, error: (err as Error).message.split('\n')[0].slice(0, 200) };
  }
}

export function healthRoutes(deps: ApiDeps) {
  return [
    route({
      method: 'get',
      path: '/api/health',
      tag: 'System',
      summary: 'State of the database and Temporal',
      auth: 'public',
      responses: {
        200: { description: 'Everything is up', schema: healthResponse },
        503: { description: 'A dependency is down', schema: healthResponse },
      },
      async handler(ctx) {
        const [database, temporal] = await Promise.all([
          timed(async () => {
            await deps.orm.em.getConnection().execute('select 1');
            return true;
          }),
          timed(() => temporalIsUp(deps.temporal)),
        ]);
        const ok = database.ok && temporal.ok;
        ctx.status = ok ? 200 : 503;
        return { status: ok ? 'ok' : 'unavailable', database, temporal };
      },
    }),
  ];
}
