import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ChannelErrorInfo } from '../../../core/channels/errors';
import type { InboundContent } from '../../../core/channels/inbound';
import { AppError } from '../../../core/errors';
import { classOfGraphCode } from './errors';

/**
 * Normalizes the WhatsApp Business Account webhook (`object: "whatsapp_business_account"`) into a flat
 * list of events. Meta adds fields and message types over time: unknown fields are kept, an unknown or
 * malformed message becomes `unsupported` content, an unknown change field an `other` event. Only an
 * envelope that is not a WhatsApp webhook at all is rejected.
 */

/**
 * The customer. Since the 2026 usernames rollout Meta may omit the phone number (waId) and give only the
 * business-scoped user id (userId, "BSUID").
 */
export interface WhatsAppContact {
  waId?: string;
  userId?: string;
  name?: string;
  username?: string;
}

interface LineEvent {
  /** Unique per provider event: the inbox table's key, so a redelivered webhook is stored once. */
  dedupeKey: string;
  /** The WhatsApp Business Account id (entry.id). */
  wabaId: string;
  /** The business phone number the event concerns (the line): metadata.phone_number_id. */
  phoneNumberId: string;
  displayPhoneNumber?: string;
}

export interface WhatsAppMessageEvent extends LineEvent {
  kind: 'message';
  messageId: string;
  /** Unix seconds, as Meta stamps it. */
  timestamp: number;
  contact: WhatsAppContact;
  content: InboundContent;
  /** The message of ours this one replies to (a tapped button's message, a quoted reply). */
  replyTo?: { messageId: string };
  /** The message object as Meta sent it. */
  raw: Record<string, unknown>;
}

export type WhatsAppDeliveryStatus = 'sent' | 'delivered' | 'read' | 'failed';

export interface WhatsAppStatusEvent extends LineEvent {
  kind: 'status';
  /** The wamid our send returned. */
  messageId: string;
  status: WhatsAppDeliveryStatus;
  timestamp: number;
  contact: WhatsAppContact;
  /** For `failed`: why, classified like a synchronous send error. */
  errors: ChannelErrorInfo[];
  pricing?: { billable?: boolean; category?: string; pricingModel?: string; type?: string };
  conversationId?: string;
  raw: Record<string, unknown>;
}

/** Errors Meta reports for the line rather than for one message (`value.errors`). */
export interface WhatsAppErrorEvent extends LineEvent {
  kind: 'error';
  errors: ChannelErrorInfo[];
  raw: Record<string, unknown>;
}

/** A change we do not act on (yet): account_update, message_template_status_update, calls, … */
export interface WhatsAppOtherEvent {
  kind: 'other';
  dedupeKey: string;
  wabaId: string;
  field: string;
  phoneNumberId?: string;
  /** Unix seconds, when the change carries one. */
  timestamp?: number;
  value: unknown;
}

export type WhatsAppWebhookEvent = WhatsAppMessageEvent | WhatsAppStatusEvent | WhatsAppErrorEvent | WhatsAppOtherEvent;

const envelopeSchema = z.looseObject({
  object: z.literal('whatsapp_business_account'),
  entry: z.array(
    z.looseObject({
      id: z.string(),
      time: z.number().optional(),
      changes: z.array(z.looseObject({ field: z.string(), value: z.unknown() })).default([]),
    }),
  ),
});

const unixSeconds = z.union([z.string().regex(/^\d+$/).transform(Number), z.number().int().nonnegative()]);

const graphErrorSchema = z.looseObject({
  code: z.coerce.number().optional(),
  title: z.string().optional(),
  message: z.string().optional(),
  error_data: z.looseObject({ details: z.string().optional() }).optional(),
});

const messagesValueSchema = z.looseObject({
  metadata: z.looseObject({ phone_number_id: z.string(), display_phone_number: z.string().optional() }),
  contacts: z
    .array(
      z.looseObject({
        wa_id: z.string().optional(),
        user_id: z.string().optional(),
        profile: z.looseObject({ name: z.string().optional(), username: z.string().optional() }).optional(),
      }),
    )
    .optional(),
  messages: z.array(z.unknown()).optional(),
  statuses: z.array(z.unknown()).optional(),
  errors: z.array(graphErrorSchema).optional(),
});

const messageSchema = z.looseObject({
  id: z.string(),
  timestamp: unixSeconds,
  type: z.string(),
  from: z.string().optional(),
  from_user_id: z.string().optional(),
  context: z.looseObject({ id: z.string().optional() }).optional(),
  errors: z.array(graphErrorSchema).optional(),
});

const statusSchema = z.looseObject({
  id: z.string(),
  status: z.string(),
  timestamp: unixSeconds,
  recipient_id: z.string().optional(),
  recipient_user_id: z.string().optional(),
  errors: z.array(graphErrorSchema).optional(),
  conversation: z.looseObject({ id: z.string().optional() }).optional(),
  pricing: z
    .looseObject({ billable: z.boolean().optional(), category: z.string().optional(), pricing_model: z.string().optional(), type: z.string().optional() })
    .optional(),
});

const deliveryStatuses: readonly string[] = ['sent', 'delivered', 'read', 'failed'] satisfies WhatsAppDeliveryStatus[];

/** The typed part of each message type we model; anything else, or a shape that does not fit, is unsupported. */
const mediaSchema = z.looseObject({
  id: z.string(),
  mime_type: z.string().optional(),
  sha256: z.string().optional(),
  caption: z.string().optional(),
  filename: z.string().optional(),
  voice: z.boolean().optional(),
  animated: z.boolean().optional(),
});
const contentParsers: Record<string, (m: Record<string, unknown>) => InboundContent | undefined> = {
  text: (m) => {
    const r = z.object({ body: z.string() }).safeParse(m.text);
    return r.success ? { type: 'text', text: r.data.body } : undefined;
  },
  interactive: (m) => {
    const r = z
      .looseObject({
        type: z.string(),
        button_reply: z.object({ id: z.string(), title: z.string() }).optional(),
        list_reply: z.object({ id: z.string(), title: z.string(), description: z.string().optional() }).optional(),
      })
      .safeParse(m.interactive);
    if (!r.success) return undefined;
    if (r.data.type === 'button_reply' && r.data.button_reply) return { type: 'button_reply', ...r.data.button_reply };
    if (r.data.type === 'list_reply' && r.data.list_reply) return { type: 'list_reply', ...r.data.list_reply };
    return undefined;
  },
  button: (m) => {
    const r = z.object({ payload: z.string(), text: z.string() }).safeParse(m.button);
    return r.success ? { type: 'quick_reply', payload: r.data.payload, text: r.data.text } : undefined;
  },
  location: (m) => {
    const r = z
      .object({ latitude: z.coerce.number(), longitude: z.coerce.number(), name: z.string().optional(), address: z.string().optional(), url: z.string().optional() })
      .safeParse(m.location);
    return r.success ? { type: 'location', ...r.data } : undefined;
  },
  contacts: (m) => (Array.isArray(m.contacts) ? { type: 'contacts', contacts: m.contacts } : undefined),
  reaction: (m) => {
    const r = z.object({ message_id: z.string(), emoji: z.string().optional() }).safeParse(m.reaction);
    return r.success ? { type: 'reaction', messageId: r.data.message_id, emoji: r.data.emoji || undefined } : undefined;
  },
  ...Object.fromEntries(
    (['image', 'video', 'document', 'audio', 'sticker'] as const).map((type) => [
      type,
      (m: Record<string, unknown>): InboundContent | undefined => {
        const r = mediaSchema.safeParse(m[type]);
        if (!r.success) return undefined;
        const { id, mime_type, sha256, caption, filename, voice, animated } = r.data;
        return compact({ type, mediaId: id, mimeType: mime_type, sha256, caption, filename, voice, animated }) as InboundContent;
      },
    ]),
  ),
};

function compact<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function errorInfo(e: z.infer<typeof graphErrorSchema>): ChannelErrorInfo {
  return compact({
    errorClass: classOfGraphCode(e.code),
    message: e.message ?? e.title ?? 'Unknown WhatsApp error',
    code: e.code,
    details: e.error_data?.details,
  });
}

const hashOf = (value: unknown): string => createHash('sha256').update(JSON.stringify(value)).digest('hex');

function otherEvent(wabaId: string, field: string, value: unknown, entryTime?: number): WhatsAppOtherEvent {
  const v = value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  const metadata = v.metadata as { phone_number_id?: unknown } | undefined;
  const phoneNumberId = typeof metadata?.phone_number_id === 'string' ? metadata.phone_number_id : undefined;
  const timestamp = unixSeconds.safeParse(v.timestamp ?? entryTime);
  return compact({
    kind: 'other' as const,
    // The entry's time tells apart two identical changes (a template approved, edited, approved again); Meta's
    // redelivery of the same webhook keeps it.
    dedupeKey: `${field}:${hashOf({ wabaId, field, value, time: entryTime })}`,
    wabaId,
    field,
    phoneNumberId,
    timestamp: timestamp.success ? timestamp.data : undefined,
    value,
  });
}

function messagesChangeEvents(wabaId: string, value: z.infer<typeof messagesValueSchema>): WhatsAppWebhookEvent[] {
  const line = compact({ wabaId, phoneNumberId: value.metadata.phone_number_id, displayPhoneNumber: value.metadata.display_phone_number });
  const contacts = value.contacts ?? [];
  const profileOf = (waId?: string, userId?: string) =>
    contacts.find((c) => (waId && c.wa_id === waId) || (userId && c.user_id === userId)) ?? (contacts.length === 1 ? contacts[0] : undefined);
  const events: WhatsAppWebhookEvent[] = [];

  for (const rawMessage of value.messages ?? []) {
    const parsed = messageSchema.safeParse(rawMessage);
    if (!parsed.success) {
      events.push(otherEvent(wabaId, 'messages', { metadata: value.metadata, messages: [rawMessage] }));
      continue;
    }
    const m = parsed.data;
    const profile = profileOf(m.from, m.from_user_id);
    const content = contentParsers[m.type]?.(m) ?? {
      type: 'unsupported' as const,
      originalType: m.type === 'interactive' ? `interactive.${String((m.interactive as { type?: unknown })?.type)}` : m.type,
      ...(m.errors?.length ? { errors: m.errors.map((e) => compact({ code: e.code, title: e.title ?? e.message, details: e.error_data?.details })) } : {}),
    };
    events.push({
      kind: 'message',
      dedupeKey: m.id,
      ...line,
      messageId: m.id,
      timestamp: m.timestamp,
      contact: compact({ waId: m.from ?? profile?.wa_id, userId: m.from_user_id ?? profile?.user_id, name: profile?.profile?.name, username: profile?.profile?.username }),
      content,
      ...(m.context?.id ? { replyTo: { messageId: m.context.id } } : {}),
      raw: rawMessage as Record<string, unknown>,
    });
  }

  for (const rawStatus of value.statuses ?? []) {
    const parsed = statusSchema.safeParse(rawStatus);
    if (!parsed.success || !deliveryStatuses.includes(parsed.data.status)) {
      events.push(otherEvent(wabaId, 'messages', { metadata: value.metadata, statuses: [rawStatus] }));
      continue;
    }
    const s = parsed.data;
    const profile = profileOf(s.recipient_id, s.recipient_user_id);
    events.push(
      compact({
        kind: 'status' as const,
        dedupeKey: `${s.id}:${s.status}`,
        ...line,
        messageId: s.id,
        status: s.status as WhatsAppDeliveryStatus,
        timestamp: s.timestamp,
        contact: compact({ waId: s.recipient_id ?? profile?.wa_id, userId: s.recipient_user_id ?? profile?.user_id, name: profile?.profile?.name, username: profile?.profile?.username }),
        errors: (s.errors ?? []).map(errorInfo),
        pricing: s.pricing && compact({ billable: s.pricing.billable, category: s.pricing.category, pricingModel: s.pricing.pricing_model, type: s.pricing.type }),
        conversationId: s.conversation?.id,
        raw: rawStatus as Record<string, unknown>,
      }),
    );
  }

  if (value.errors?.length) {
    events.push({
      kind: 'error',
      dedupeKey: `errors:${hashOf({ wabaId, metadata: value.metadata, errors: value.errors })}`,
      ...line,
      errors: value.errors.map(errorInfo),
      raw: value as Record<string, unknown>,
    });
  }
  return events;
}

/** Throws AppError('invalid') only when the body is not a WhatsApp Business Account webhook. */
export function parseWhatsAppWebhook(body: unknown): WhatsAppWebhookEvent[] {
  const envelope = envelopeSchema.safeParse(body);
  if (!envelope.success) throw new AppError('invalid', 'Not a WhatsApp Business Account webhook');
  return envelope.data.entry.flatMap((entry) =>
    entry.changes.flatMap((change) => {
      if (change.field === 'messages') {
        const value = messagesValueSchema.safeParse(change.value);
        const events = value.success ? messagesChangeEvents(entry.id, value.data) : [];
        if (events.length) return events;
      }
      return [otherEvent(entry.id, change.field, change.value, entry.time)];
    }),
  );
}
