import { createHash, timingSafeEqual } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { parseWhatsAppWebhook, verifyMetaSignature, type WhatsAppWebhookEvent } from '../../activities/channels/whatsapp';
import { WhatsAppLine } from '../../core/db/entities';
import { AppError } from '../../core/errors';
import { inboxWriter, type LineEvent } from '../../core/inbox/webhook-inbox';
import type { ApiDeps } from '../deps';
import { route } from '../route';
import { successSchema } from '../schemas';

/**
 * Meta's callback URL for WhatsApp. The GET answers the subscription handshake; the POST checks the
 * signature over the raw bytes, writes every event to the webhook inbox (deduplicated there) and answers
 * 200 at once. It does no work itself: the worker's inbox dispatcher does.
 */
const handshakeQuery = z.object({
  'hub.mode': z.string().optional(),
  'hub.verify_token': z.string().optional(),
  'hub.challenge': z.string().max(500).optional(),
});

const sameText = (a: string, b: string): boolean => {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
};

function toLineEvents(events: WhatsAppWebhookEvent[]): LineEvent[] {
  return events.map((event) => ({
    dedupeKey: event.dedupeKey,
    // Line-level error reports are not acted on by the engine: kept as 'other'.
    kind: event.kind === 'message' || event.kind === 'status' ? event.kind : 'other',
    phoneNumberId: event.phoneNumberId ?? null,
    wabaId: event.wabaId,
    payload: event,
  }));
}

/** A signed body that is not a WhatsApp Business Account webhook (another product pointed here): kept, not acted on. */
function foreignEnvelope(rawBody: Buffer, body: unknown): LineEvent {
  return { dedupeKey: `envelope:${createHash('sha256').update(rawBody).digest('hex')}`, kind: 'other', phoneNumberId: null, wabaId: null, payload: body };
}

export function whatsappWebhookRoutes(deps: ApiDeps) {
  const { appSecret, verifyToken: globalVerifyToken } = deps.config.whatsapp;
  const storeInboxEvents = inboxWriter(deps.orm, 'whatsapp');
  return [
    route({
      method: 'get',
      path: '/api/webhook/whatsapp',
      tag: 'Webhooks',
      summary: "Meta's webhook verification handshake",
      description: 'Answers hub.challenge when hub.verify_token is the verify token of one of the lines (or WHATSAPP_VERIFY_TOKEN).',
      auth: 'public',
      query: handshakeQuery,
      responses: {
        200: { description: 'The challenge, echoed', schema: z.string(), contentType: 'text/plain' },
        403: { description: 'Wrong mode or verify token' },
      },
      async handler(ctx, { query }) {
        const em: EntityManager = ctx.state.em;
        const token = query['hub.verify_token'];
        const challenge = query['hub.challenge'];
        const matches =
          query['hub.mode'] === 'subscribe' &&
          challenge !== undefined &&
          !!token &&
          ((globalVerifyToken !== undefined && sameText(token, globalVerifyToken)) || (await em.count(WhatsAppLine, { verifyToken: token })) > 0);
        if (!matches) throw new AppError('forbidden', 'Webhook verification failed: wrong hub.mode or hub.verify_token');
        ctx.type = 'text/plain';
        ctx.body = challenge;
      },
    }),
    route({
      method: 'post',
      path: '/api/webhook/whatsapp',
      tag: 'Webhooks',
      summary: 'WhatsApp Cloud API events (messages, statuses, account updates)',
      description:
        'Signed by Meta with X-Hub-Signature-256 (HMAC-SHA256 of the raw body with the app secret). Events are stored once each ' +
        '(redeliveries are ignored) and processed asynchronously.',
      auth: 'public',
      responses: {
        200: { description: 'Accepted', schema: successSchema },
        401: { description: 'Missing or wrong X-Hub-Signature-256' },
        503: { description: 'META_APP_SECRET is not configured, so no signature can be checked' },
      },
      async handler(ctx) {
        if (!appSecret) {
          ctx.state.log?.error('WhatsApp webhook refused: META_APP_SECRET is not configured');
          throw new AppError('unavailable', 'Webhook signatures cannot be checked: META_APP_SECRET is not configured');
        }
        const rawBody: Buffer = ctx.state.rawBody ?? Buffer.alloc(0);
        if (!verifyMetaSignature(rawBody, ctx.get('x-hub-signature-256') || undefined, appSecret)) {
          throw new AppError('unauthenticated', 'Missing or wrong X-Hub-Signature-256');
        }
        const body = ctx.request.body;
        if (body === undefined) throw new AppError('invalid', 'Empty webhook body');
        let events: LineEvent[];
        try {
          events = toLineEvents(parseWhatsAppWebhook(body));
        } catch (err) {
          if (!(err instanceof AppError && err.kind === 'invalid')) throw err;
          ctx.state.log?.warn('signed webhook that is not a WhatsApp Business Account webhook; stored as other');
          events = [foreignEnvelope(rawBody, body)];
        }
        const { stored, unknownPhoneNumberIds } = await storeInboxEvents(events);
        if (unknownPhoneNumberIds.length) {
          ctx.state.log?.warn({ phoneNumberIds: unknownPhoneNumberIds }, 'WhatsApp webhook for phone number ids no line has; stored and acknowledged');
        }
        ctx.state.log?.debug({ events: events.length, stored }, 'WhatsApp webhook stored');
        return { success: true };
      },
    }),
  ];
}
