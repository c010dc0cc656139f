import { envelope } from '../dev/whatsapp-simulator/payloads';
import { signatureHeaders } from '../dev/whatsapp-simulator/signing';

/** WhatsApp Cloud API webhook bodies as Meta posts them, signed with the app secret, for the load generator. */

export interface LineRef {
  phoneNumberId: string;
  wabaId: string;
  displayPhoneNumber: string;
}

export interface SignedWebhook {
  body: Buffer;
  headers: Record<string, string>;
}

const nowSeconds = (): string => String(Math.floor(Date.now() / 1000));

const metadata = (line: LineRef) => ({ display_phone_number: line.displayPhoneNumber, phone_number_id: line.phoneNumberId });

export function statusWebhook(line: LineRef, wamid: string, status: 'sent' | 'delivered' | 'read', recipient: string): object {
  const entry = { id: wamid, status, timestamp: nowSeconds(), recipient_id: recipient };
  return envelope(line.wabaId, 'messages', { messaging_product: 'whatsapp', metadata: metadata(line), statuses: [entry] });
}

export function customerText(line: LineRef, from: string, wamid: string, text: string): object {
  const message = { from, id: wamid, timestamp: nowSeconds(), type: 'text', text: { body: text } };
  return envelope(line.wabaId, 'messages', {
    messaging_product: 'whatsapp',
    metadata: metadata(line),
    contacts: [{ profile: { name: 'Bench Customer' }, wa_id: from }],
    messages: [message],
  });
}

export function signed(body: object, appSecret: string): SignedWebhook {
  const raw = Buffer.from(JSON.stringify(body));
  return { body: raw, headers: { 'content-type': 'application/json', 'user-agent': 'facebookexternalua', ...signatureHeaders(raw, appSecret) } };
}
