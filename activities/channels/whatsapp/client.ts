import { ChannelSendError } from '../../../core/channels/errors';
import { outboundMessageSchema, type OutboundMessage } from '../../../core/channels/outbound';
import { graphRequest, type GraphOptions } from './graph-request';
import { toCloudApiMessage, toCloudApiRead } from './wire';

export type WhatsAppClientOptions = GraphOptions;

export interface SendMessageRequest {
  /** The business phone number id the message leaves from (the line). */
  phoneNumberId: string;
  accessToken: string;
  /** The recipient's phone number in international form, with or without `+`. */
  to: string;
  message: OutboundMessage;
  /**
   * The caller's id for this send (our message row id). The Cloud API has no idempotency header, so it is
   * never sent; deduplication is the caller's job. Kept so call sites and logs can carry it.
   */
  idempotencyKey?: string;
  /**
   * Called once, right before the provider call (after the line's governor gave the send its slot): where the
   * caller durably records that the call is being made, so that after a crash it knows which sends may have
   * gone out. A failure here stops the send.
   */
  beforeSend?: () => Promise<void>;
  /** Refuse with LineBusyError, before taking a slot, when the line's governor would hold the send longer. */
  maxWaitMs?: number;
}

export interface SentMessage {
  /** The provider message id; status webhooks refer to it. */
  wamid: string;
  /** The recipient's WhatsApp id as Meta resolved it (digits, no `+`). */
  waId: string;
}

export interface WhatsAppClient {
  /** Throws ChannelSendError, classified, on any failure. */
  sendMessage(req: SendMessageRequest): Promise<SentMessage>;
  markRead(req: { phoneNumberId: string; accessToken: string; messageId: string; typingIndicator?: boolean }): Promise<void>;
}

export function createWhatsAppClient(opts: WhatsAppClientOptions): WhatsAppClient {
  const request = graphRequest(opts);
  const post = (phoneNumberId: string, accessToken: string, body: unknown) =>
    request('POST', `${encodeURIComponent(phoneNumberId)}/messages`, accessToken, { body });

  return {
    async sendMessage({ phoneNumberId, accessToken, to, message, beforeSend }) {
      const parsed = outboundMessageSchema.safeParse(message);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`).join('; ');
        throw new ChannelSendError({ errorClass: 'definitive', message: `Invalid outbound message: ${issues}` });
      }
      await beforeSend?.();
      const answer = (await post(phoneNumberId, accessToken, toCloudApiMessage(to, parsed.data))) as {
        messages?: { id?: unknown }[];
        contacts?: { wa_id?: unknown }[];
      };
      const wamid = answer?.messages?.[0]?.id;
      if (typeof wamid !== 'string') {
        // Accepted but unreadable: Meta may well have sent it.
        throw new ChannelSendError({ errorClass: 'transient', message: 'WhatsApp Cloud API answered 2xx without a message id', maybeSent: true });
      }
      const waId = answer.contacts?.[0]?.wa_id;
      return { wamid, waId: typeof waId === 'string' ? waId : to.replace(/^\+/, '') };
    },

    async markRead({ phoneNumberId, accessToken, messageId, typingIndicator }) {
      await post(phoneNumberId, accessToken, toCloudApiRead(messageId, typingIndicator));
    },
  };
}
