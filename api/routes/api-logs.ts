import { z } from 'zod';
import type { ApiDeps } from '../deps';
import { route } from '../route';
import { pagination } from '../schemas';

const logEntry = z.object({
  id: z.string(),
  requestId: z.string(),
  tenantId: z.string().nullable(),
  userId: z.string().nullable(),
  method: z.string(),
  path: z.string(),
  status: z.number().int(),
  durationMs: z.number().int(),
  ip: z.string().nullable(),
  createdAt: z.string(),
});

interface LogRow {
  id: string;
  request_id: string;
  tenant_id: string | null;
  user_id: string | null;
  method: string;
  path: string;
  status: number;
  duration_ms: number;
  ip: string | null;
  created_at: Date;
}

export function apiLogRoutes(deps: ApiDeps) {
  return [
    route({
      method: 'get',
      path: '/api/webhook/api-logs',
      tag: 'Monitoring',
      summary: 'Recent API requests, newest first',
      auth: 'session',
      roles: ['admin'],
      query: pagination.extend({
        status: z.coerce.number().int().min(100).max(599).optional(),
        tenantId: z.string().uuid().optional(),
        path: z.string().max(200).optional(),
      }),
      responses: { 200: { description: 'A page of request logs', schema: z.object({ logs: z.array(logEntry), total: z.number().int() }) } },
      async handler(_ctx, { query }) {
        const where: string[] = [];
        const args: unknown[] = [];
        if (query.status !== undefined) (where.push('status = ?'), args.push(query.status));
        if (query.tenantId) (where.push('tenant_id = ?'), args.push(query.tenantId));
        if (query.path) (where.push('path like ?'), args.push(`${query.path.replace(/[\\%_]/g, '\\$&')}%`));
        const clause = where.length ? `where ${where.join(' and ')}` : '';
        const conn = deps.orm.em.getConnection();
        const rows = await conn.execute<LogRow[]>(
          `select * from api_logs ${clause} order by id desc limit ? offset ?`,
          [...args, query.limit, query.offset],
        );
        const [{ count }] = await conn.execute<{ count: string }[]>(`select count(*) from api_logs ${clause}`, args);
        return {
          logs: rows.map((r) => ({
            id: String(r.id),
            requestId: r.request_id,
            tenantId: r.tenant_id,
            userId: r.user_id,
            method: r.method,
            path: r.path,
            status: r.status,
            durationMs: r.duration_ms,
            ip: r.ip,
            createdAt: new Date(r.created_at).toISOString(),
          })),
          total: Number(count),
        };
      },
    }),
  ];
}
