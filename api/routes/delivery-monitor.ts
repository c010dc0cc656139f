import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { attemptOutcomes, messageStatuses } from '../../core/db/entities';
import { deliveryAudit, deliveryHealth, findMessages, monitorStatuses, presentMessage, retryRefusals } from '../../core/delivery/monitor';
import { requestRetries } from '../../core/delivery/retry';
import { AppError } from '../../core/errors';
import type { Principal } from '../middleware/auth';
import type { ApiDeps } from '../deps';
import { route } from '../route';
import { pagination } from '../schemas';

/**
 * The delivery monitor: how outbound messages stand (counts over a window, stale and failed messages with
 * WhatsApp's error codes), each message's audit trail, and manual retries through the same idempotent send path.
 * Owners see their tenant; an administrator sees every tenant, or one with `tenantId`.
 */

const DAY_MS = 24 * 3600_000;
const MAX_RETRIES_PER_REQUEST = 500;

const uuid = z.string().uuid({ message: 'must be a UUID' });
const dateTime = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time, e.g. 2026-11-20T08:00:00Z' });
const staleAfterMinutes = z.coerce
  .number()
  .positive('must be more than 0')
  .max(525_600, 'must be at most a year (525600)')
  .meta({ description: 'No status for this long makes a message stale (default DELIVERY_STALE_AFTER_MINUTES, 15); fractions allowed' });
const filterFields = {
  campaignId: z.string().trim().min(1).max(200).optional().meta({ description: "A campaign's id, or the campaignId an outbound trigger was given" }),
  lineId: uuid.optional().meta({ description: 'One of your lines (its id in /api/settings/whatsapp)' }),
  errorCode: z.coerce.number().int().optional().meta({ description: "WhatsApp's error code, e.g. 131026" }),
  since: dateTime.optional().meta({ description: 'Messages created from then on (default: 24 hours ago)' }),
  until: dateTime.optional().meta({ description: 'Messages created before then' }),
  tenantId: uuid.optional().meta({ description: "Administrators: one tenant's messages (default: every tenant's)" }),
};

const retryView = z.object({
  allowed: z.boolean().meta({ description: 'Whether POST /api/monitor/delivery would retry it now' }),
  reason: z.enum(retryRefusals).nullable(),
  message: z.string().nullable(),
});

const messageView = z.object({
  messageId: z.string().uuid(),
  tenantId: z.string().uuid(),
  conversationId: z.string().uuid(),
  providerMessageId: z.string().nullable().meta({ description: "WhatsApp's message id (wamid) of the current send" }),
  phone: z.string(),
  lineId: z.string().uuid(),
  phoneNumberId: z.string().nullable(),
  campaignId: z.string().nullable(),
  sourceRef: z.string().nullable(),
  sentBy: z.string().nullable(),
  type: z.string(),
  templateName: z.string().nullable(),
  status: z.enum(messageStatuses),
  stale: z.enum(['no_status', 'in_doubt', 'not_attempted']).nullable().meta({
    description:
      'no_status: accepted by WhatsApp, then neither delivered, read nor failed; in_doubt: sent, and the answer never stored (a crash); not_attempted: queued, never sent',
  }),
  staleMarkedAt: z.string().nullable().meta({ description: 'When its delivery workflow stopped waiting for a status' }),
  errorCode: z.number().int().nullable(),
  errorTitle: z.string().nullable(),
  attempts: z.number().int().meta({ description: 'Provider calls made for it, retries included' }),
  round: z.number().int().meta({ description: '0 for the original send, then one more per manual retry' }),
  createdAt: z.string(),
  updatedAt: z.string(),
  sentAt: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  readAt: z.string().nullable(),
  failedAt: z.string().nullable(),
  retry: retryView,
});

const overview = z.object({
  window: z.object({ since: z.string(), until: z.string().nullable() }),
  staleAfterMinutes: z.number(),
  summary: z.object({
    total: z.number().int(),
    queued: z.number().int(),
    sent: z.number().int(),
    delivered: z.number().int(),
    read: z.number().int(),
    failed: z.number().int(),
    stale: z.number().int(),
    failuresByCode: z.array(z.object({ errorCode: z.number().int().nullable(), errorTitle: z.string().nullable(), count: z.number().int() })),
  }),
  messages: z.array(messageView),
  total: z.number().int().meta({ description: 'Messages matching the filter (all pages)' }),
  limit: z.number().int(),
  offset: z.number().int(),
});

const audit = z.object({
  message: messageView,
  attempts: z.array(
    z.object({
      attemptNo: z.number().int(),
      round: z.number().int(),
      channel: z.enum(['whatsapp', 'sms']).meta({ description: 'sms: the fallback engine\'s last step; phoneNumberId is then the SMS sender' }),
      phoneNumberId: z.string(),
      templateName: z.string().nullable(),
      templateLanguage: z.string().nullable(),
      outcome: z.enum(attemptOutcomes),
      providerMessageId: z.string().nullable(),
      errorCode: z.number().int().nullable(),
      errorTitle: z.string().nullable(),
      tries: z.number().int(),
      startedAt: z.string(),
      finishedAt: z.string().nullable(),
    }),
  ),
  retries: z.array(
    z.object({
      round: z.number().int(),
      requestedBy: z.string().nullable(),
      requestedAt: z.string(),
      outcome: z.enum(['queued', 'sent', 'failed', 'refused']),
      detail: z.string().nullable(),
      finishedAt: z.string().nullable(),
    }),
  ),
  trail: z.array(
    z.looseObject({
      at: z.string(),
      event: z.enum(['queued', 'attempt', 'retry_requested', 'sent', 'delivered', 'read', 'failed', 'marked_stale']),
      round: z.number().int(),
      detail: z.string().nullable(),
    }),
  ),
});

const retryBody = z
  .object({
    messageId: uuid.optional().meta({ description: 'Retry this message' }),
    filter: z
      .object({
        status: z.enum(['failed', 'stale', 'problems']).default('failed').meta({ description: 'Which messages: failed (default), stale, or both' }),
        campaignId: filterFields.campaignId,
        lineId: filterFields.lineId,
        errorCode: z.number().int().optional(),
        since: filterFields.since,
        until: filterFields.until,
        tenantId: filterFields.tenantId,
      })
      .optional()
      .meta({ description: 'Or retry the messages matching this filter, oldest first up to `limit`' }),
    limit: z.number().int().min(1).max(MAX_RETRIES_PER_REQUEST).default(100).meta({ description: `With a filter: at most this many (up to ${MAX_RETRIES_PER_REQUEST})` }),
    staleAfterMinutes: staleAfterMinutes.optional(),
  })
  .refine((b) => (b.messageId === undefined) !== (b.filter === undefined), { message: 'give either messageId or filter', path: ['messageId'] });

const retryAnswer = z.object({
  queued: z.number().int().meta({ description: 'Messages whose retry is queued (a repeated request counts the same ones, sending nothing twice)' }),
  messages: z.array(
    z.object({
      messageId: z.string().uuid(),
      round: z.number().int(),
      workflowId: z.string().meta({ description: 'Its delivery workflow in Temporal' }),
      alreadyQueued: z.boolean().meta({ description: 'An earlier request had queued this same retry' }),
    }),
  ),
  refused: z.array(z.object({ messageId: z.string().uuid(), reason: z.enum(retryRefusals), message: z.string() })),
});

/** Owners: their tenant (another tenantId is refused). Administrators: the one asked for, else every tenant. */
export function tenantScope(principal: Principal, tenantId: string | undefined): string | undefined {
  if (principal.role === 'admin') return tenantId;
  if (tenantId !== undefined && tenantId !== principal.tenantId) throw new AppError('forbidden', "Only an administrator can see another tenant's messages");
  return principal.tenantId;
}

export function deliveryMonitorRoutes(deps: ApiDeps) {
  const tag = 'Monitoring';
  const managers = ['admin', 'owner'] as const;
  const defaultStale = () => deps.config.delivery.staleAfterMinutes;
  return [
    route({
      method: 'get',
      path: '/api/monitor/delivery',
      tag,
      summary: 'Delivery health, stale and failed messages, or one message’s audit trail',
      description:
        'Without `messageId`: counts by status over the window (`since`, default the last 24 hours), and a page of messages, newest first — by ' +
        'default the problems (failed, or stale: no status for `staleAfterMinutes`), or those of `status`. Each says why it failed (WhatsApp\'s ' +
        'code and title) and whether a retry would be taken. With `messageId`: that message\'s audit trail (every attempt of every round, ' +
        'retry requests, statuses). Owners see their tenant; administrators every tenant, or one with `tenantId`.',
      auth: 'user',
      roles: managers,
      query: pagination.extend({
        messageId: uuid.optional().meta({ description: "One message's audit trail instead of the overview" }),
        status: z.enum(monitorStatuses).default('problems').meta({ description: 'problems (default): failed or stale; all: every message' }),
        staleAfterMinutes: staleAfterMinutes.optional(),
        ...filterFields,
      }),
      responses: {
        200: { description: 'The overview, or with messageId the audit trail', schema: z.union([overview, audit]) },
        404: { description: 'No such message (in your account)' },
      },
      async handler(ctx, { query, principal }) {
        const em: EntityManager = ctx.state.em;
        const tenantId = tenantScope(principal!, query.tenantId);
        const stale = query.staleAfterMinutes ?? defaultStale();
        if (query.messageId) return deliveryAudit(em, tenantId, query.messageId, stale);
        const since = query.since ? new Date(query.since) : new Date(Date.now() - DAY_MS);
        const until = query.until ? new Date(query.until) : undefined;
        const filter = { tenantId, campaignId: query.campaignId, lineId: query.lineId, errorCode: query.errorCode, since, until, staleAfterMinutes: stale };
        const summary = await deliveryHealth(em, filter);
        const { rows, total } = await findMessages(em, { ...filter, status: query.status, limit: query.limit, offset: query.offset });
        return {
          window: { since: since.toISOString(), until: until?.toISOString() ?? null },
          staleAfterMinutes: stale,
          summary,
          messages: rows.map(presentMessage),
          total,
          limit: query.limit,
          offset: query.offset,
        };
      },
    }),
    route({
      method: 'post',
      path: '/api/monitor/delivery',
      tag,
      summary: 'Retry one message, or the failed or stale messages of a filter',
      description:
        'Each message taken is sent again as a new round of the same message, through the same idempotent send path (a template group starts ' +
        'again from its first template), recorded in its attempts, and followed by its delivery workflow. A message WhatsApp accepted is never ' +
        'sent again; a message still being sent, one whose campaign is settling it, one whose 24-hour window closed (not a template), or whose ' +
        'line cannot send is refused, saying why. Repeating the request never sends twice. Answers 202 with what was queued and what was refused.',
      auth: 'user',
      roles: managers,
      body: retryBody,
      responses: {
        202: { description: 'What was queued, and what was refused and why', schema: retryAnswer },
        404: { description: 'No such message (in your account)' },
        503: { description: 'The workflow service is unavailable; repeat the request' },
      },
      async handler(ctx, { body, principal }) {
        const em: EntityManager = ctx.state.em;
        const tenantId = tenantScope(principal!, body.filter?.tenantId);
        const filter = body.filter && {
          status: body.filter.status,
          campaignId: body.filter.campaignId,
          lineId: body.filter.lineId,
          errorCode: body.filter.errorCode,
          since: body.filter.since ? new Date(body.filter.since) : new Date(Date.now() - DAY_MS),
          until: body.filter.until ? new Date(body.filter.until) : undefined,
        };
        const answer = await requestRetries(em, deps.temporal, {
          tenantId,
          requestedBy: principal!.userId,
          messageId: body.messageId,
          filter,
          limit: body.limit,
          staleAfterMinutes: body.staleAfterMinutes ?? defaultStale(),
          followForMs: deps.config.delivery.followForMs,
        });
        ctx.status = 202;
        return answer;
      },
    }),
  ];
}
