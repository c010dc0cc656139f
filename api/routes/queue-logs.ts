import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { outboundQueue, queueStates } from '../../core/delivery/queue';
import type { ApiDeps } from '../deps';
import { route } from '../route';
import { pagination } from '../schemas';
import { tenantScope } from './delivery-monitor';

const entry = z.object({
  kind: z.enum(['message', 'campaign_recipient']).meta({ description: 'A message row, or a campaign recipient not sent to yet' }),
  id: z.string().meta({ description: 'The message id, or the campaign recipient id' }),
  messageId: z.string().uuid().nullable(),
  tenantId: z.string().uuid(),
  state: z.enum(queueStates),
  campaignId: z.string().nullable(),
  lineId: z.string().uuid().nullable(),
  phoneNumberId: z.string().nullable(),
  phone: z.string(),
  type: z.string(),
  templateName: z.string().nullable(),
  attempts: z.number().int(),
  errorCode: z.number().int().nullable(),
  error: z.string().nullable().meta({ description: "WhatsApp's error, or why a recipient was skipped or is waiting" }),
  sentBy: z.string().nullable(),
  sourceRef: z.string().nullable(),
  queuedAt: z.string(),
  updatedAt: z.string(),
  notBefore: z.string().nullable().meta({ description: 'A campaign recipient waiting for a retry: not before then' }),
});

export function queueLogRoutes(_deps: ApiDeps) {
  return [
    route({
      method: 'get',
      path: '/api/webhook/queue-logs',
      tag: 'Monitoring',
      summary: 'The outbound queue, newest first',
      description:
        'Every outbound message (each send is queued as a row before it goes out) and the campaign recipients not sent to yet, with their state: ' +
        'waiting (a campaign recipient whose turn has not come), queued, sending (sent, answer not stored yet), sent, delivered, read, failed, ' +
        'skipped (opted out, or the campaign was cancelled). Owners see their tenant; administrators every tenant, or one with `tenantId`.',
      auth: 'session',
      roles: ['admin', 'owner'],
      query: pagination.extend({
        state: z.enum(queueStates).optional(),
        campaignId: z.string().trim().min(1).max(200).optional().meta({ description: "A campaign's id, or the campaignId an outbound trigger was given" }),
        lineId: z.string().uuid({ message: 'must be a UUID' }).optional(),
        phoneNumberId: z.string().trim().regex(/^\d{1,32}$/, "must be Meta's phone number id (digits only)").optional(),
        tenantId: z.string().uuid({ message: 'must be a UUID' }).optional().meta({ description: "Administrators: one tenant's queue (default: every tenant's)" }),
      }),
      responses: {
        200: { description: 'A page of the queue', schema: z.object({ entries: z.array(entry), total: z.number().int(), limit: z.number().int(), offset: z.number().int() }) },
      },
      async handler(ctx, { query, principal }) {
        const em: EntityManager = ctx.state.em;
        const { entries, total } = await outboundQueue(em, { ...query, tenantId: tenantScope(principal!, query.tenantId) });
        return { entries, total, limit: query.limit, offset: query.offset };
      },
    }),
  ];
}
