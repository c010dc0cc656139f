import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ChannelSendError } from '../../core/channels/errors';
import type { OutboundMessage } from '../../core/channels/outbound';
import {
  createWhatsAppClient,
  parseWhatsAppWebhook,
  verifyMetaSignature,
  type WhatsAppClient,
  type WhatsAppMessageEvent,
  type WhatsAppStatusEvent,
} from '../../activities/channels/whatsapp';
import { freePort } from '../support/free-port';
import { startWhatsAppSimulator, type SimulatorProcess } from '../support/whatsapp-simulator-process';

/** Our webhook endpoint's stand-in: keeps the raw bytes and headers, answers the statuses it is told to. */
interface Receiver {
  url: string;
  received: { raw: Buffer; signature?: string }[];
  /** Answers for the next requests, in order; 200 once they run out. */
  answers: number[];
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const received: Receiver['received'] = [];
  const answers: number[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    received.push({ raw: Buffer.concat(chunks), signature: req.headers['x-hub-signature-256'] as string | undefined });
    res.writeHead(answers.shift() ?? 200).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/whatsapp`,
    received,
    answers,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const line = '106540352242922';
const customer = '+972501234567';

describe('WhatsApp adapter against the Cloud API simulator', () => {
  let sim: SimulatorProcess;
  let receiver: Receiver;
  let client: WhatsAppClient;

  const send = (message: OutboundMessage, overrides: { to?: string; accessToken?: string } = {}) =>
    client.sendMessage({ phoneNumberId: line, accessToken: overrides.accessToken ?? sim.accessToken, to: overrides.to ?? customer, message });
  const sendError = async (message: OutboundMessage, overrides: { to?: string; accessToken?: string } = {}): Promise<ChannelSendError> => {
    const err = await send(message, overrides).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ChannelSendError);
    return err as ChannelSendError;
  };
  const eventsReceived = () => receiver.received.flatMap((r) => parseWhatsAppWebhook(JSON.parse(r.raw.toString('utf8'))));

  beforeAll(async () => {
    receiver = await startReceiver();
    sim = await startWhatsAppSimulator({ webhookUrl: receiver.url });
    client = createWhatsAppClient({ graphUrl: sim.url, apiVersion: 'v25.0' });
  });

  afterEach(async () => {
    await sim.settled();
    await sim.reset();
    receiver.received.length = 0;
    receiver.answers.length = 0;
  });

  afterAll(async () => {
    await sim?.stop();
    await receiver?.close();
  });

  describe('sending', () => {
    it('sends a text message in the exact Cloud API shape and returns the wamid', async () => {
      const sent = await send({ type: 'text', body: 'Hello Dana', previewUrl: true });
      expect(sent.wamid).toMatch(/^wamid\./);
      expect(sent.waId).toBe('972501234567');
      const [recorded] = await sim.messages({ to: customer });
      expect(recorded).toMatchObject({ wamid: sent.wamid, phoneNumberId: line, apiVersion: 'v25.0' });
      expect(recorded.body).toEqual({
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        to: customer,
        type: 'text',
        text: { body: 'Hello Dana', preview_url: true },
      });
    });

    it('sends media by link or by id, with captions and file names', async () => {
      await send({ type: 'image', link: 'https://cdn.example.com/p.jpg', caption: 'Your order' });
      await send({ type: 'document', id: '1234567890', filename: 'invoice.pdf', caption: 'Invoice' });
      await send({ type: 'audio', link: 'https://cdn.example.com/a.ogg' });
      await send({ type: 'video', id: '987' });
      const bodies = (await sim.messages()).map((m) => m.body);
      const envelope = { messaging_product: 'whatsapp', recipient_type: 'individual', to: customer };
      expect(bodies).toEqual([
        { ...envelope, type: 'image', image: { link: 'https://cdn.example.com/p.jpg', caption: 'Your order' } },
        { ...envelope, type: 'document', document: { id: '1234567890', caption: 'Invoice', filename: 'invoice.pdf' } },
        { ...envelope, type: 'audio', audio: { link: 'https://cdn.example.com/a.ogg' } },
        { ...envelope, type: 'video', video: { id: '987' } },
      ]);
    });

    it('sends templates with body parameters, a media header and an OTP button', async () => {
      await send({ type: 'template', name: 'order_ready', language: 'en_US', params: ['Dana', '#1042'] });
      await send({
        type: 'template',
        name: 'otp_login',
        language: 'he',
        components: [
          { type: 'header', parameters: [{ type: 'image', link: 'https://cdn.example.com/logo.png' }] },
          { type: 'body', parameters: [{ type: 'text', text: '482913', name: 'code' }] },
          { type: 'button', subType: 'url', index: 0, parameters: [{ type: 'text', text: '482913' }] },
        ],
      });
      const [simple, otp] = (await sim.messages()).map((m) => m.body);
      expect(simple.template).toEqual({
        name: 'order_ready',
        language: { code: 'en_US' },
        components: [{ type: 'body', parameters: [{ type: 'text', text: 'Dana' }, { type: 'text', text: '#1042' }] }],
      });
      expect(otp.template).toEqual({
        name: 'otp_login',
        language: { code: 'he' },
        components: [
          { type: 'header', parameters: [{ type: 'image', image: { link: 'https://cdn.example.com/logo.png' } }] },
          { type: 'body', parameters: [{ type: 'text', text: '482913', parameter_name: 'code' }] },
          { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: '482913' }] },
        ],
      });
    });

    it('sends reply buttons and lists as interactive messages', async () => {
      await send({
        type: 'buttons',
        header: 'Appointment',
        body: 'Can you make it tomorrow at 10:00?',
        footer: 'Reply with a button',
        buttons: [
          { id: 'yes', title: 'Yes' },
          { id: 'no', title: 'No' },
        ],
      });
      await send({
        type: 'list',
        body: 'How should we ship it?',
        buttonText: 'Shipping',
        sections: [{ title: 'Options', rows: [{ id: 'express', title: 'Express', description: 'Next day' }, { id: 'standard', title: 'Standard' }] }],
      });
      const [buttons, list] = (await sim.messages()).map((m) => m.body);
      expect(buttons).toEqual({
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        to: customer,
        type: 'interactive',
        interactive: {
          type: 'button',
          header: { type: 'text', text: 'Appointment' },
          body: { text: 'Can you make it tomorrow at 10:00?' },
          footer: { text: 'Reply with a button' },
          action: {
            buttons: [
              { type: 'reply', reply: { id: 'yes', title: 'Yes' } },
              { type: 'reply', reply: { id: 'no', title: 'No' } },
            ],
          },
        },
      });
      expect(list.interactive).toEqual({
        type: 'list',
        body: { text: 'How should we ship it?' },
        action: {
          button: 'Shipping',
          sections: [{ title: 'Options', rows: [{ id: 'express', title: 'Express', description: 'Next day' }, { id: 'standard', title: 'Standard' }] }],
        },
      });
    });

    it('marks an inbound message as read', async () => {
      await client.markRead({ phoneNumberId: line, accessToken: sim.accessToken, messageId: 'wamid.INBOUND', typingIndicator: true });
      expect(await sim.reads()).toMatchObject([
        { phoneNumberId: line, messageId: 'wamid.INBOUND', body: { messaging_product: 'whatsapp', status: 'read', message_id: 'wamid.INBOUND', typing_indicator: { type: 'text' } } },
      ]);
    });

    it('refuses an invalid message before calling the API', async () => {
      const err = await sendError({ type: 'buttons', body: 'Pick', buttons: [1, 2, 3, 4].map((i) => ({ id: `b${i}`, title: `B${i}` })) });
      expect(err.errorClass).toBe('definitive');
      expect(await sim.messages()).toEqual([]);
    });
  });

  describe('errors, classified', () => {
    it('a wrong access token is a credentials error (190)', async () => {
      const err = await sendError({ type: 'text', body: 'hi' }, { accessToken: 'expired-token' });
      expect(err).toMatchObject({ errorClass: 'credentials', code: 190, httpStatus: 401 });
      expect(err.fbtraceId).toEqual(expect.any(String));
    });

    it('a recipient Meta would refuse is definitive (100)', async () => {
      const err = await sendError({ type: 'text', body: 'hi' }, { to: 'not-a-number' });
      expect(err).toMatchObject({ errorClass: 'definitive', code: 100, httpStatus: 400 });
      expect(err.details).toMatch(/to/);
    });

    it('going over the line throughput is rate-limited (130429)', async () => {
      await sim.configure({ rateLimitPerSecond: 2 });
      await send({ type: 'text', body: '1' });
      await send({ type: 'text', body: '2' });
      const err = await sendError({ type: 'text', body: '3' });
      expect(err).toMatchObject({ errorClass: 'rate_limited', code: 130429, httpStatus: 400, retryable: true });
      expect(err.retryAfterMs).toBeGreaterThan(0);
      expect(await sim.messages()).toHaveLength(2);
    });

    it('a closed customer-service window is window_closed (131047)', async () => {
      await sim.configure({ failNext: [{ code: 131047 }] });
      const err = await sendError({ type: 'text', body: 'late reply' });
      expect(err).toMatchObject({ errorClass: 'window_closed', code: 131047, retryable: false });
      expect(err.details).toMatch(/24 hours/);
    });

    it('a 500 from Graph (or a proxy in front of it) is transient', async () => {
      await sim.configure({ failNext: [{ httpStatus: 500, rawBody: '<html><body>Internal Server Error</body></html>' }] });
      const err = await sendError({ type: 'text', body: 'hi' });
      expect(err).toMatchObject({ errorClass: 'transient', httpStatus: 500, retryable: true });
      // The injected failure is used up: the retry goes through.
      await expect(send({ type: 'text', body: 'hi' })).resolves.toMatchObject({ wamid: expect.stringMatching(/^wamid\./) });
    });

    it('an unreachable API is transient and was certainly not sent', async () => {
      const offline = createWhatsAppClient({ graphUrl: `http://127.0.0.1:${await freePort()}`, apiVersion: 'v25.0' });
      const err = await offline.sendMessage({ phoneNumberId: line, accessToken: 't', to: customer, message: { type: 'text', body: 'hi' } }).catch((e: unknown) => e);
      expect(err).toMatchObject({ errorClass: 'transient', maybeSent: false });
    });
  });

  describe('webhooks', () => {
    it('delivers a customer message signed with the app secret; a tampered copy fails verification', async () => {
      const { wamid, webhook } = await sim.inbound({ from: customer, phoneNumberId: line, name: 'Dana', text: 'I want to book' });
      expect(webhook.delivered).toBe(true);
      expect(receiver.received).toHaveLength(1);
      const [{ raw, signature }] = receiver.received;
      expect(verifyMetaSignature(raw, signature, sim.appSecret)).toBe(true);
      expect(verifyMetaSignature(Buffer.from(raw.toString('utf8').replace('I want to book', 'I want to cancel')), signature, sim.appSecret)).toBe(false);
      expect(verifyMetaSignature(raw, signature, 'another-secret')).toBe(false);

      const [event] = eventsReceived() as WhatsAppMessageEvent[];
      expect(event).toMatchObject({
        kind: 'message',
        dedupeKey: wamid,
        messageId: wamid,
        phoneNumberId: line,
        contact: { waId: '972501234567', name: 'Dana' },
        content: { type: 'text', text: 'I want to book' },
      });
    });

    it('a button tap answers the interactive message it came from', async () => {
      const sent = await send({ type: 'buttons', body: 'Confirm?', buttons: [{ id: 'confirm', title: 'Confirm' }] });
      await sim.settled();
      receiver.received.length = 0;
      await sim.inbound({ from: customer, phoneNumberId: line, buttonReply: { id: 'confirm', title: 'Confirm' } });
      const [event] = eventsReceived() as WhatsAppMessageEvent[];
      expect(event.content).toEqual({ type: 'button_reply', id: 'confirm', title: 'Confirm' });
      expect(event.replyTo).toEqual({ messageId: sent.wamid });
    });

    it('posts sent, delivered and read statuses in order after a send', async () => {
      const { wamid } = await send({ type: 'text', body: 'Your table is ready' });
      await sim.settled();
      expect(receiver.received.every((r) => verifyMetaSignature(r.raw, r.signature, sim.appSecret))).toBe(true);
      const statuses = eventsReceived() as WhatsAppStatusEvent[];
      expect(statuses.map((s) => [s.kind, s.messageId, s.status, s.dedupeKey])).toEqual([
        ['status', wamid, 'sent', `${wamid}:sent`],
        ['status', wamid, 'delivered', `${wamid}:delivered`],
        ['status', wamid, 'read', `${wamid}:read`],
      ]);
      expect(statuses[0]).toMatchObject({ phoneNumberId: line, contact: { waId: '972501234567' }, errors: [] });
    });

    it('reports a failed delivery with the classified reason', async () => {
      await sim.configure({ recipients: { [customer]: { autoStatuses: ['sent'], failWith: 131026 } } });
      const { wamid } = await send({ type: 'text', body: 'Are you there?' });
      await sim.settled();
      const statuses = eventsReceived() as WhatsAppStatusEvent[];
      expect(statuses.map((s) => s.status)).toEqual(['sent', 'failed']);
      expect(statuses[1]).toMatchObject({ messageId: wamid, errors: [{ errorClass: 'definitive', code: 131026 }] });
    });

    it('retries a webhook our endpoint did not accept, as Meta does', async () => {
      receiver.answers.push(500, 503);
      const { webhook } = await sim.inbound({ from: customer, phoneNumberId: line, text: 'hello?' });
      expect(webhook.attempts.map((a) => a.status)).toEqual([500, 503, 200]);
      expect(webhook.delivered).toBe(true);
      expect(new Set(receiver.received.map((r) => r.raw.toString('utf8'))).size).toBe(1);
    });

    it('can deliver every webhook twice, with the same dedupe keys', async () => {
      await sim.configure({ duplicateWebhooks: true, autoStatuses: ['sent'] });
      await sim.inbound({ from: customer, phoneNumberId: line, text: 'once' });
      await send({ type: 'text', body: 'reply' });
      await sim.settled();
      const keys = eventsReceived().map((e) => e.dedupeKey);
      expect(keys).toHaveLength(4);
      expect(new Set(keys).size).toBe(2);
      expect((await sim.webhooks()).filter((w) => w.duplicate)).toHaveLength(2);
    });

    it('passes on fields we do not act on as "other" events', async () => {
      await sim.event('message_template_status_update', { event: 'APPROVED', message_template_id: 42, message_template_name: 'order_ready', message_template_language: 'en_US' });
      const [event] = eventsReceived();
      expect(event).toMatchObject({ kind: 'other', field: 'message_template_status_update', value: { event: 'APPROVED' } });
    });
  });
});
