import { statusError } from './graph-errors';
import type { RecordedMessage, SimulatorState } from './state';

/** Webhook bodies in the WhatsApp Business Account format: one entry, one change. */

const nowSeconds = (): string => String(Math.floor(Date.now() / 1000));

export function envelope(wabaId: string, field: string, value: unknown): Record<string, unknown> {
  return { object: 'whatsapp_business_account', entry: [{ id: wabaId, changes: [{ value, field }] }] };
}

function messagesValue(state: SimulatorState, phoneNumberId: string, rest: Record<string, unknown>): Record<string, unknown> {
  return {
    messaging_product: 'whatsapp',
    metadata: { display_phone_number: state.displayPhoneNumber(phoneNumberId), phone_number_id: phoneNumberId },
    ...rest,
  };
}

/** The status webhook Meta posts as a sent message progresses (or fails). */
export function statusWebhook(state: SimulatorState, message: RecordedMessage, status: 'sent' | 'delivered' | 'read' | 'failed', failCode?: number) {
  const billable = message.type === 'template';
  const pricing = { billable, pricing_model: 'PMP', category: billable ? 'utility' : 'service', type: billable ? 'regular' : 'free_customer_service' };
  const entry = {
    id: message.wamid,
    status,
    timestamp: nowSeconds(),
    recipient_id: message.waId,
    ...(status === 'sent' || status === 'delivered' ? { pricing } : {}),
    ...(status === 'failed' ? { errors: [statusError(failCode ?? 131026)] } : {}),
  };
  return envelope(state.config.wabaId, 'messages', messagesValue(state, message.phoneNumberId, { statuses: [entry] }));
}

/** What a customer can send through POST /_sim/inbound. Exactly one content field is used. */
export interface InboundRequest {
  from: string;
  phoneNumberId: string;
  name?: string;
  text?: string;
  /** Tap on a reply button of an interactive message. */
  buttonReply?: { id: string; title: string };
  listReply?: { id: string; title: string; description?: string };
  /** Tap on a quick-reply button of a template. */
  button?: { payload: string; text: string };
  media?: { type: 'image' | 'video' | 'document' | 'audio' | 'sticker'; id?: string; mimeType?: string; caption?: string; filename?: string };
  location?: { latitude: number; longitude: number; name?: string; address?: string };
  reaction?: { messageId: string; emoji: string };
  /** Any other message: `{type, [type]: {...}}` merged into the message object as is. */
  message?: Record<string, unknown>;
  /** The wamid this replies to; for button and list replies it defaults to the last such message sent to them. */
  contextId?: string;
}

function content(req: InboundRequest): Record<string, unknown> {
  if (req.text !== undefined) return { type: 'text', text: { body: req.text } };
  if (req.buttonReply) return { type: 'interactive', interactive: { type: 'button_reply', button_reply: req.buttonReply } };
  if (req.listReply) return { type: 'interactive', interactive: { type: 'list_reply', list_reply: req.listReply } };
  if (req.button) return { type: 'button', button: req.button };
  if (req.media) {
    const { type, id, mimeType, caption, filename } = req.media;
    const fallbackMime = { image: 'image/jpeg', video: 'video/mp4', document: 'application/pdf', audio: 'audio/ogg; codecs=opus', sticker: 'image/webp' }[type];
    return { type, [type]: { id: id ?? String(Date.now()), mime_type: mimeType ?? fallbackMime, sha256: 'c2ltdWxhdGVk', ...(caption ? { caption } : {}), ...(filename ? { filename } : {}) } };
  }
  if (req.location) return { type: 'location', location: req.location };
  if (req.reaction) return { type: 'reaction', reaction: { message_id: req.reaction.messageId, emoji: req.reaction.emoji } };
  if (req.message) return req.message;
  throw new Error('inbound needs one of text, buttonReply, listReply, button, media, location, reaction, message');
}

/** A customer's message as Meta delivers it, with the context of the message it answers. */
export function inboundWebhook(state: SimulatorState, req: InboundRequest, wamid: string) {
  const waId = req.from.replace(/\D/g, '');
  const body = content(req);
  const answersType = body.type === 'interactive' ? 'interactive' : body.type === 'button' ? 'template' : undefined;
  const contextId = req.contextId ?? (answersType ? state.lastSentTo(req.phoneNumberId, waId, answersType)?.wamid : undefined);
  const message = {
    ...(contextId ? { context: { from: state.displayPhoneNumber(req.phoneNumberId), id: contextId } } : {}),
    from: waId,
    id: wamid,
    timestamp: nowSeconds(),
    ...body,
  };
  const contacts = [{ profile: { name: req.name ?? 'Simulated Customer' }, wa_id: waId }];
  return envelope(state.config.wabaId, 'messages', messagesValue(state, req.phoneNumberId, { contacts, messages: [message] }));
}
