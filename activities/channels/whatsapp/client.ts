import { ChannelSendError } from '../../../core/channels/errors';
import { outboundMessageSchema, type OutboundMessage } from '../../../core/channels/outbound';
import { classifyGraphError, classifyNetworkError } from './errors';
import { toCloudApiMessage, toCloudApiRead } from './wire';

export interface WhatsAppClientOptions {
  /** e.g. https://graph.facebook.com, or the simulator's URL. */
  graphUrl: string;
  /** e.g. v25.0 */
  apiVersion: string;
  fetch?: typeof fetch;
  /** Per request; default 15 s. */
  timeoutMs?: number;
}

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
  const doFetch = opts.fetch ?? fetch;
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const base = `${opts.graphUrl.replace(/\/+$/, '')}/${opts.apiVersion}`;

  async function post(phoneNumberId: string, accessToken: string, body: unknown): Promise<unknown> {
    let res: Response;
    let text: string;
    try {
      res = await doFetch(`${base}/${encodeURIComponent(phoneNumberId)}/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      throw classifyNetworkError(err);
    }
    let json: unknown = text;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      // Proxies and outages answer HTML; the status alone then classifies it.
    }
    if (!res.ok) throw classifyGraphError(res.status, json, res.headers.get('retry-after'));
    return json;
  }

  return {
    async sendMessage({ phoneNumberId, accessToken, to, message }) {
      const parsed = outboundMessageSchema.safeParse(message);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`).join('; ');
        throw new ChannelSendError({ errorClass: 'definitive', message: `Invalid outbound message: ${issues}` });
      }
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
