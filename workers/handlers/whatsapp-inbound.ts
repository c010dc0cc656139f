import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { replyIdOf, type InboundContent } from '../../core/channels/inbound';
import { findLineByPhoneNumberId } from '../../core/channels/lines';
import { applyOptOutKeyword } from '../../core/contacts/opt-out';
import { recordCustomerMessage } from '../../core/conversations/store';
import type { InboxRow } from '../../core/inbox/webhook-inbox';
import { replyRoute } from '../../core/journey/reply-route';
import { signalJourney } from '../../core/journey/signal';
import type { InboundMessage } from '../../core/journey/types';
import type { TemporalHandle } from '../../core/temporal/connect';
import type { WhatsAppMessageEvent } from '../../activities/channels/whatsapp';

export function toInboundMessage(event: WhatsAppMessageEvent): InboundMessage {
  const c = event.content;
  const choiceId = replyIdOf(c);
  return {
    messageId: event.messageId,
    kind: choiceId ? 'choice' : c.type === 'text' ? 'text' : isMedia(c) ? 'media' : 'other',
    text: textOf(c),
    choiceId,
    customerName: event.contact.name,
    receivedAt: new Date(event.timestamp * 1000).toISOString(),
  };
}

const isMedia = (c: InboundContent) => ['image', 'video', 'document', 'audio', 'sticker'].includes(c.type);

function textOf(c: InboundContent): string | undefined {
  switch (c.type) {
    case 'text':
      return c.text;
    case 'button_reply':
    case 'list_reply':
      return c.title;
    case 'quick_reply':
      return c.text;
    case 'image':
    case 'video':
    case 'document':
      return c.caption;
    default:
      return undefined;
  }
}

/**
 * A customer's message: recorded on its conversation (once, by provider id) and handed to the contact's
 * journey with signal-with-start. Its conversation is the one core/journey/reply-route.ts names. Safe to run
 * twice for one row: the insert and the journey both deduplicate by message id.
 */
export function whatsappInboundHandler(deps: { temporal: TemporalHandle }) {
  return async (row: InboxRow, ctx: { em: EntityManager; logger: Logger }): Promise<void> => {
    const event = row.payload as WhatsAppMessageEvent;
    const line = row.phoneNumberId ? await findLineByPhoneNumberId(ctx.em, row.phoneNumberId) : null;
    if (!row.tenantId || !line) {
      ctx.logger.warn({ phoneNumberId: row.phoneNumberId, messageId: event.messageId }, 'inbound message for an unknown line: kept, not routed');
      return;
    }
    // Usually the arrival line's own conversation; another line's when this line wrote to the customer on its
    // behalf (a fallback send). The message is then recorded on that conversation, not on this line's: the agent
    // reads the answer under the template it answers, in the thread whose journey it resumes and whose line that
    // journey goes on sending from, and no empty conversation of this line appears in the inbox.
    const key = await replyRoute(ctx.em, {
      tenantId: line.tenantId,
      lineId: line.id,
      contact: event.contact.waId ?? String(event.raw.from),
      replyToMessageId: event.replyTo?.messageId,
      receivedAt: row.receivedAt,
    });
    if (key.lineId !== line.id) ctx.logger.info({ messageId: event.messageId, arrivedOn: line.id, ownerLine: key.lineId }, 'reply to a fallback send: routed to the line that owns it');
    const message = toInboundMessage(event);
    await recordCustomerMessage(ctx.em, key, {
      providerMessageId: event.messageId,
      type: event.content.type,
      text: message.text ?? null,
      content: event.content,
      customerName: event.contact.name ?? null,
      sentAt: message.receivedAt,
      arrivedAt: row.receivedAt,
      arrivedOnOtherLine: key.lineId === line.id ? null : line.id,
    });
    // STOP / START (the tenant's keywords) opt the contact out of campaigns, or back in; the journey still hears it.
    if (event.content.type === 'text' || event.content.type === 'quick_reply') {
      const change = await applyOptOutKeyword(ctx.em, { tenantId: key.tenantId, contact: key.contact, text: message.text });
      if (change) ctx.logger.info({ contact: key.contact, change }, 'opt-out keyword');
    }
    await signalJourney(deps.temporal, key, { name: 'inbound', arg: message });
  };
}
