import { z } from 'zod';

/**
 * What a customer sent, independent of the channel it came through. Channel parsers (WhatsApp:
 * activities/channels/whatsapp/webhook.ts) produce these; journeys consume them.
 */

const mediaTypes = ['image', 'video', 'document', 'audio', 'sticker'] as const;

export const inboundContentSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text'), text: z.string() }),
  /** A tap on a reply button of an interactive message we sent. */
  z.object({ type: z.literal('button_reply'), id: z.string(), title: z.string() }),
  /** A row chosen from a list message we sent. */
  z.object({ type: z.literal('list_reply'), id: z.string(), title: z.string(), description: z.string().optional() }),
  /** A tap on a quick-reply button of a template we sent. */
  z.object({ type: z.literal('quick_reply'), payload: z.string(), text: z.string() }),
  z.object({
    type: z.enum(mediaTypes),
    /** The provider's media id; download it through the provider's media API. */
    mediaId: z.string(),
    mimeType: z.string().optional(),
    sha256: z.string().optional(),
    caption: z.string().optional(),
    filename: z.string().optional(),
    /** Audio recorded in the app rather than a sent file. */
    voice: z.boolean().optional(),
    animated: z.boolean().optional(),
  }),
  z.object({
    type: z.literal('location'),
    latitude: z.number(),
    longitude: z.number(),
    name: z.string().optional(),
    address: z.string().optional(),
    url: z.string().optional(),
  }),
  /** Shared contact cards, as the provider sent them. */
  z.object({ type: z.literal('contacts'), contacts: z.array(z.unknown()) }),
  /** A reaction to one of our messages; no emoji means the reaction was removed. */
  z.object({ type: z.literal('reaction'), messageId: z.string(), emoji: z.string().optional() }),
  /** Anything we do not model yet (orders, polls, new types); the event keeps the raw message. */
  z.object({
    type: z.literal('unsupported'),
    originalType: z.string(),
    errors: z.array(z.object({ code: z.number().optional(), title: z.string().optional(), details: z.string().optional() })).optional(),
  }),
]);

export type InboundContent = z.infer<typeof inboundContentSchema>;
export type InboundMediaType = (typeof mediaTypes)[number];

/** The id a journey waiting for a choice matches: a button's or row's id, or a template button's payload. */
export function replyIdOf(content: InboundContent): string | undefined {
  switch (content.type) {
    case 'button_reply':
    case 'list_reply':
      return content.id;
    case 'quick_reply':
      return content.payload;
    default:
      return undefined;
  }
}
