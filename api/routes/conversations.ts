import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { changeAssignment, type AssignmentAction } from '../../core/conversations/assignment';
import { conversationMessages, countByStatus, findConversation, listConversations } from '../../core/conversations/inbox';
import { readJourney, temporalWebUrl } from '../../core/conversations/journey-view';
import { sendReply, WINDOW_CLOSED_MESSAGE } from '../../core/conversations/reply';
import { windowOpen } from '../../core/conversations/store';
import { Conversation, conversationStatuses, messageStatuses, type ConversationStatus, type Message } from '../../core/db/entities';
import { AppError } from '../../core/errors';
import type { OutboundMessage } from '../../core/journey/types';
import { resolveTemplateReference } from '../../core/templates/resolve';
import type { ApiDeps } from '../deps';
import { idParams, route } from '../route';
import { pagination } from '../schemas';

/**
 * The agents' inbox: conversations (one customer on one line), their messages, who holds them, and replies.
 * Every route is scoped to the caller's tenant; another tenant's conversation is answered 404, as if absent.
 * A claim pauses the bot (the journey) for the conversation; a release resumes it. Replies go through the
 * `deliverMessage` workflow and obey WhatsApp's 24-hour customer-service window.
 */

const iso = (d: Date | null | undefined): string | null => (d ? new Date(d).toISOString() : null);

const conversationSummary = z.object({
  id: z.string().uuid(),
  waPhoneNumber: z.string().meta({ description: "The customer's number, E.164 with '+'" }),
  customerName: z.string().nullable(),
  flowId: z.string().uuid().nullable(),
  flowVersion: z.number().int().nullable(),
  status: z.enum(conversationStatuses).meta({ description: 'bot: the journey answers; agent: an agent holds it (the bot is paused); closed' }),
  assignedUserId: z.string().uuid().nullable(),
  currentNode: z.string().nullable().meta({ description: "The journey's current node, as last recorded" }),
  lastMessage: z.string().nullable(),
  lastMessageAt: z.string().nullable(),
  startedAt: z.string(),
  lastCustomerMessageAt: z.string().nullable(),
  windowOpen: z.boolean().meta({ description: 'Within 24 h of the customer\'s last message: free-form replies allowed' }),
  channel: z.string(),
  lineId: z.string().uuid(),
});

function summaryOf(c: Conversation, now = Date.now()): z.infer<typeof conversationSummary> {
  return {
    id: c.id,
    waPhoneNumber: `+${c.contact}`,
    customerName: c.customerName ?? null,
    flowId: c.flowId ?? null,
    flowVersion: c.flowVersion ?? null,
    status: c.status,
    assignedUserId: c.assignedUserId ?? null,
    currentNode: c.currentNode ?? null,
    lastMessage: c.lastMessage ?? null,
    lastMessageAt: iso(c.lastMessageAt),
    startedAt: iso(c.startedAt)!,
    lastCustomerMessageAt: iso(c.lastCustomerMessageAt),
    windowOpen: windowOpen(c.lastCustomerMessageAt ?? null, now),
    channel: c.channel,
    lineId: c.lineId,
  };
}

const messageView = z.object({
  id: z.string().uuid(),
  direction: z.enum(['in', 'out']),
  type: z.string(),
  text: z.string().nullable(),
  payload: z.record(z.string(), z.unknown()),
  status: z.enum(messageStatuses),
  errorCode: z.number().int().nullable(),
  errorTitle: z.string().nullable(),
  providerMessageId: z.string().nullable(),
  sentBy: z.string().nullable().meta({ description: "'bot', 'agent' or the sending user's id; null for inbound" }),
  journeyNode: z.string().nullable(),
  createdAt: z.string(),
  sentAt: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  readAt: z.string().nullable(),
  failedAt: z.string().nullable(),
});

const messageOf = (m: Message): z.infer<typeof messageView> => ({
  id: m.id,
  direction: m.direction,
  type: m.type,
  text: m.text ?? null,
  payload: m.payload,
  status: m.status,
  errorCode: m.errorCode ?? null,
  errorTitle: m.errorTitle ?? null,
  providerMessageId: m.providerMessageId ?? null,
  sentBy: m.sentBy ?? null,
  journeyNode: m.journeyNode ?? null,
  createdAt: iso(m.createdAt)!,
  sentAt: iso(m.sentAt),
  deliveredAt: iso(m.deliveredAt),
  readAt: iso(m.readAt),
  failedAt: iso(m.failedAt),
});

const journeyView = z
  .object({
    flowId: z.string().optional(),
    version: z.number().int().optional(),
    currentNode: z.string().optional(),
    status: z.enum(['idle', 'running', 'waiting', 'paused', 'completed', 'failed', 'superseded']),
    waitingFor: z.enum(['reply', 'timer', 'agent']).optional(),
    waitUntil: z.number().optional(),
    variables: z.record(z.string(), z.string()),
    paused: z.boolean(),
    queued: z.number().int(),
    lastError: z.string().optional(),
    history: z.array(z.object({ flowId: z.string(), version: z.number(), outcome: z.string(), at: z.number(), reason: z.string().optional() })),
  })
  .meta({ description: "The running journey's own state (its `state` query)" });

const conversationDetail = conversationSummary.extend({
  messages: z.array(messageView).meta({ description: 'A page of messages, oldest first; offset 0 is the newest page' }),
  messagesTotal: z.number().int(),
  journeyWorkflowId: z.string(),
  journey: journeyView.nullable().meta({ description: 'Null when no journey is running for this conversation' }),
  journeyError: z.string().optional().meta({ description: 'Set when Temporal could not be asked; journey is then null' }),
  temporalUrl: z.string().meta({ description: "The journey's page in Temporal Web" }),
});

const statsView = z.object({ bot: z.number().int(), agent: z.number().int(), closed: z.number().int(), total: z.number().int() });

const flag = z
  .enum(['1', 'true', '0', 'false'], { message: 'must be 1 or 0' })
  .optional()
  .transform((v) => v === '1' || v === 'true');

const listQuery = pagination.extend({
  status: z.enum(conversationStatuses).optional(),
  assignedTo: z
    .union([z.enum(['me', 'unassigned']), z.string().uuid()], { message: "must be 'me', 'unassigned' or a user id" })
    .optional(),
  search: z.string().trim().max(100).optional().meta({ description: "Part of the customer's phone number or name" }),
  flowId: z.string().uuid({ message: 'must be a UUID' }).optional(),
  lineId: z.string().uuid({ message: 'must be a UUID' }).optional(),
  stats: flag.meta({ description: '1: answer {conversations, stats} with counts by status instead of the plain array' }),
});

const actions = ['claim', 'release', 'close'] as const satisfies readonly AssignmentAction[];
const actionOfStatus: Record<ConversationStatus, AssignmentAction> = { agent: 'claim', bot: 'release', closed: 'close' };
const assignmentBody = z
  .object({
    action: z.enum(actions).optional(),
    status: z.enum(conversationStatuses).optional().meta({ description: 'Synonym of action: agent = claim, bot = release, closed = close' }),
  })
  .refine((v) => (v.action === undefined) !== (v.status === undefined), {
    message: 'give action (claim, release or close), or status (agent, bot or closed), not both',
    path: ['action'],
  });

const mediaTypes = ['image', 'video', 'document', 'audio'] as const;
const replyBody = z.discriminatedUnion(
  'messageType',
  [
    z.object({ messageType: z.literal('text'), text: z.string().trim().min(1, 'must not be empty').max(4096, 'must be at most 4096 characters') }),
    z
      .object({
        messageType: z.enum(mediaTypes),
        mediaUrl: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }),
        caption: z.string().trim().min(1).max(1024, 'must be at most 1024 characters').optional(),
        filename: z.string().trim().min(1).max(240).optional().meta({ description: 'Documents only' }),
      })
      .refine((m) => m.messageType !== 'audio' || m.caption === undefined, { message: 'audio takes no caption', path: ['caption'] })
      .refine((m) => m.messageType === 'document' || m.filename === undefined, { message: 'only documents take a filename', path: ['filename'] }),
    z
      .object({
        messageType: z.literal('template'),
        templateName: z.string().trim().min(1, 'must not be empty').max(512).optional(),
        templateId: z.string().uuid({ message: 'must be a UUID' }).optional().meta({ description: 'One of your templates, instead of templateName' }),
        templateGroupId: z
          .string()
          .uuid({ message: 'must be a UUID' })
          .optional()
          .meta({ description: 'A template group: its approved templates are tried in order, then on its preferred line' }),
        templateLanguage: z.string().trim().min(2).max(15).default('en').meta({ description: 'e.g. en, en_US, he (with templateName)' }),
        templateParams: z.array(z.string().min(1, 'must not be empty')).max(100).default([]).meta({ description: 'The body parameters, in order' }),
      })
      .refine((t) => t.templateName || t.templateId || t.templateGroupId, { message: 'give templateName, templateId or templateGroupId', path: ['templateName'] }),
  ],
  { error: (issue) => (issue.code === 'invalid_union' ? `must be one of text, ${mediaTypes.join(', ')}, template` : undefined) },
);

function outboundOf(body: z.infer<typeof replyBody>): OutboundMessage {
  switch (body.messageType) {
    case 'text':
      return { type: 'text', text: body.text };
    case 'template':
      return {
        type: 'template',
        ...(body.templateGroupId ? { templateGroupId: body.templateGroupId } : body.templateId ? { templateId: body.templateId } : { name: body.templateName }),
        language: body.templateLanguage,
        params: body.templateParams,
      };
    default:
      return { type: 'media', mediaType: body.messageType, url: body.mediaUrl, caption: body.caption, filename: body.filename };
  }
}

const replyQuery = z.object({
  waitSeconds: z.coerce
    .number()
    .min(0)
    .max(15, 'must be at most 15')
    .default(15)
    .meta({ description: 'How long to wait for the provider to accept the message before answering 202 (0: answer at once)' }),
});

const replySent = z.object({
  success: z.literal(true),
  messageId: z.string().nullable().meta({ description: "WhatsApp's message id (wamid)" }),
  windowOpen: z.boolean(),
  queued: z.boolean(),
  idempotencyKey: z.string().meta({ description: 'Repeat the request with this Idempotency-Key header to retry safely or to learn its outcome' }),
});

const idempotencyKeyHeader = z.string().trim().min(1).max(200).regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

export function conversationRoutes(deps: ApiDeps) {
  const namespace = deps.temporal.namespace;
  return [
    route({
      method: 'get',
      path: '/api/conversations',
      tag: 'Conversations',
      summary: 'List conversations (+ stats)',
      description:
        'The conversations of your account, most recent activity first, as an array of ' +
        '`{id, waPhoneNumber, customerName, flowId, status, lastMessage, startedAt, lastCustomerMessageAt, …}`. ' +
        'Filters: `status` (bot | agent | closed), `assignedTo` (me | unassigned | a user id), `search` (phone or name), ' +
        '`flowId`, `lineId`; paging: `limit` (default 50, at most 200) and `offset`; the `X-Total-Count` header gives the ' +
        'number of matches. With `stats=1` the answer is `{conversations: [...], stats: {bot, agent, closed, total}}`, the ' +
        'counts by status under the same filters except `status`.',
      auth: 'user',
      query: listQuery,
      responses: {
        200: {
          description: 'The conversations (an array), or {conversations, stats} with stats=1',
          schema: z.union([z.array(conversationSummary), z.object({ conversations: z.array(conversationSummary), stats: statsView })]),
        },
      },
      async handler(ctx, { query, principal }) {
        const em: EntityManager = ctx.state.em;
        const { limit, offset, stats, ...filters } = query;
        const { conversations, total } = await listConversations(em, principal!.tenantId, principal!.userId, filters, { limit, offset });
        ctx.set('X-Total-Count', String(total));
        const now = Date.now();
        const list = conversations.map((c) => summaryOf(c, now));
        if (!stats) return list;
        return { conversations: list, stats: await countByStatus(em, principal!.tenantId, principal!.userId, filters) };
      },
    }),
    route({
      method: 'get',
      path: '/api/conversations/:id',
      tag: 'Conversations',
      summary: 'Conversation details: messages, delivery states, journey',
      description:
        'The conversation, a page of its messages (oldest first; `offset` 0 is the newest page, `limit` default 50) with ' +
        'their delivery states, whether the 24-hour window is open, the running journey as the workflow reports it ' +
        '(current node, status, variables, what it waits for; null when none runs, with `journeyError` when Temporal ' +
        'could not be asked) and a link to the journey in Temporal Web.',
      auth: 'user',
      params: idParams,
      query: pagination,
      responses: { 200: { description: 'The conversation', schema: conversationDetail }, 404: { description: 'No such conversation in your account' } },
      async handler(ctx, { params, query, principal }) {
        const em: EntityManager = ctx.state.em;
        const conversation = await findConversation(em, principal!.tenantId, params.id);
        const [{ messages, total }, journey] = await Promise.all([
          conversationMessages(em, conversation.id, query),
          readJourney(deps.temporal, conversation.journeyWorkflowId),
        ]);
        return {
          ...summaryOf(conversation),
          messages: messages.map(messageOf),
          messagesTotal: total,
          journeyWorkflowId: conversation.journeyWorkflowId,
          ...journey,
          temporalUrl: temporalWebUrl(deps.config, namespace, conversation.journeyWorkflowId),
        };
      },
    }),
    route({
      method: 'put',
      path: '/api/conversations/:id',
      tag: 'Conversations',
      summary: 'Claim, release or close a conversation',
      description:
        'Body `{action: "claim" | "release" | "close"}` (or `{status: "agent" | "bot" | "closed"}`). A claim assigns the ' +
        'conversation to you and pauses the bot for it; a release hands it back to the bot, which resumes; close ends ' +
        'its journey. A conversation another agent holds can be claimed, released or closed only by an owner or admin ' +
        '(409 otherwise). When the workflow service is unreachable the answer is 503 and nothing changes.',
      auth: 'user',
      params: idParams,
      body: assignmentBody,
      responses: {
        200: { description: 'The conversation as it now stands', schema: conversationSummary },
        404: { description: 'No such conversation in your account' },
        409: { description: 'Another agent holds the conversation' },
        503: { description: 'The workflow service is unavailable; nothing was changed' },
      },
      async handler(ctx, { params, body, principal }) {
        const action = body.action ?? actionOfStatus[body.status!];
        const conversation = await changeAssignment(ctx.state.em, deps.temporal, {
          tenantId: principal!.tenantId,
          conversationId: params.id,
          action,
          actor: { userId: principal!.userId, role: principal!.role },
        });
        ctx.state.log?.info({ conversationId: conversation.id, action, workflowId: conversation.journeyWorkflowId }, 'conversation assignment changed');
        return summaryOf(conversation);
      },
    }),
    route({
      method: 'post',
      path: '/api/conversations/:id/reply',
      tag: 'Conversations',
      summary: 'Send Message to Customer (text, media, template)',
      description:
        'Body: `{messageType: "text", text}`, `{messageType: "image" | "video" | "document" | "audio", mediaUrl, caption?, ' +
        'filename?}` or `{messageType: "template", templateName | templateId | templateGroupId, templateLanguage, templateParams}`. WhatsApp allows ' +
        'free-form messages only within 24 hours of the customer\'s last message; after that only an approved template ' +
        `(400 "${WINDOW_CLOSED_MESSAGE}"). The answer \`{success, messageId, windowOpen}\` comes once WhatsApp ` +
        'accepted the message; if that takes longer than `waitSeconds` (default 15) the answer is 202 with `queued: true` ' +
        'and the message goes on being sent. Send an `Idempotency-Key` header to make retries safe: a repeated key ' +
        'never sends twice and answers with the first outcome. A message WhatsApp refuses is a 502 naming the reason.',
      auth: 'user',
      params: idParams,
      query: replyQuery,
      body: replyBody,
      responses: {
        200: { description: 'Sent: WhatsApp accepted the message', schema: replySent },
        202: { description: 'Accepted and still being sent (messageId null, queued true)', schema: replySent },
        400: { description: 'Invalid body, or free-form message outside the 24-hour window (send a template)' },
        404: { description: 'No such conversation, template or template group in your account' },
        502: { description: 'WhatsApp refused the message (the error says why)' },
        503: { description: 'The workflow service is unavailable; nothing was sent' },
      },
      async handler(ctx, { params, query, body, principal }) {
        const em: EntityManager = ctx.state.em;
        const conversation = await findConversation(em, principal!.tenantId, params.id);
        // A template (group) of another tenant, or one with nothing APPROVED, is refused before anything is sent.
        if (body.messageType === 'template' && (body.templateId || body.templateGroupId)) await resolveTemplateReference(em, principal!.tenantId, body);
        const header = ctx.get('idempotency-key');
        const keyCheck = header ? idempotencyKeyHeader.safeParse(header) : undefined;
        if (keyCheck && !keyCheck.success) throw new AppError('invalid', `Invalid header: Idempotency-Key: ${keyCheck.error.issues[0].message}`);
        const outcome = await sendReply(deps.temporal, {
          conversation,
          message: outboundOf(body),
          sentBy: principal!.userId,
          idempotencyKey: keyCheck?.data,
          waitMs: query.waitSeconds * 1000,
        });
        const open = windowOpen(conversation.lastCustomerMessageAt ?? null);
        ctx.state.log?.info({ conversationId: conversation.id, queued: outcome.queued, idempotencyKey: outcome.idempotencyKey }, 'agent reply');
        if (outcome.queued) {
          ctx.status = 202;
          return { success: true, messageId: null, windowOpen: open, queued: true, idempotencyKey: outcome.idempotencyKey };
        }
        return { success: true, messageId: outcome.providerMessageId, windowOpen: open, queued: false, idempotencyKey: outcome.idempotencyKey };
      },
    }),
  ];
}
