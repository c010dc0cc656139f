import { createHmac } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { ChannelSendError, channelErrorOf, toActivityFailure, type ChannelErrorClass } from '../../core/channels/errors';
import { outboundMessageSchema, replyIdOf } from '../../core/channels';
import { classifyGraphError, classifyNetworkError } from '../../activities/channels/whatsapp/errors';
import { verifyMetaSignature } from '../../activities/channels/whatsapp/signature';
import { parseWhatsAppWebhook, type WhatsAppMessageEvent, type WhatsAppStatusEvent } from '../../activities/channels/whatsapp/webhook';

const graphBody = (code: number, extra: Record<string, unknown> = {}) => ({ error: { message: `(#${code}) something`, type: 'OAuthException', code, ...extra } });

describe('classifying Cloud API errors', () => {
  const table: [number, number, ChannelErrorClass][] = [
    [1, 400, 'transient'],
    [2, 503, 'transient'],
    [4, 429, 'rate_limited'],
    [80007, 400, 'rate_limited'],
    [130429, 400, 'rate_limited'],
    [131016, 503, 'transient'],
    [131056, 400, 'rate_limited'],
    [131057, 503, 'transient'],
    [131047, 400, 'window_closed'],
    [131026, 400, 'definitive'],
    [131050, 400, 'definitive'],
    [131049, 400, 'definitive'],
    [132000, 400, 'definitive'],
    [132001, 400, 'definitive'],
    [132012, 400, 'definitive'],
    [100, 400, 'definitive'],
    [190, 401, 'credentials'],
    [10, 403, 'credentials'],
    [200, 403, 'credentials'],
    [368, 400, 'account'],
    [131031, 400, 'account'],
  ];

  it.each(table)('code %i (HTTP %i) is %s', (code, status, expected) => {
    const err = classifyGraphError(status, graphBody(code));
    expect(err).toBeInstanceOf(ChannelSendError);
    expect(err.errorClass).toBe(expected);
    expect(err.code).toBe(code);
    expect(err.httpStatus).toBe(status);
  });

  it('treats any 5xx without a known code as transient, even with an HTML body', () => {
    expect(classifyGraphError(500, '<html>Bad gateway</html>').errorClass).toBe('transient');
    expect(classifyGraphError(502, undefined).errorClass).toBe('transient');
    expect(classifyGraphError(503, graphBody(999999)).errorClass).toBe('transient');
  });

  it('treats an unknown 4xx as definitive', () => {
    expect(classifyGraphError(400, graphBody(131999)).errorClass).toBe('definitive');
    expect(classifyGraphError(404, {}).errorClass).toBe('definitive');
  });

  it('falls back on 429 and 401 when the body names no code', () => {
    expect(classifyGraphError(429, {}).errorClass).toBe('rate_limited');
    expect(classifyGraphError(401, undefined).errorClass).toBe('credentials');
  });

  it('classifies by code before HTTP status', () => {
    expect(classifyGraphError(500, graphBody(131047)).errorClass).toBe('window_closed');
  });

  it('keeps what Meta says: message, subcode, details, trace id', () => {
    const err = classifyGraphError(
      400,
      graphBody(130429, { message: '(#130429) Rate limit hit', error_subcode: 2494055, error_data: { messaging_product: 'whatsapp', details: 'too many messages' }, fbtrace_id: 'Az8or2' }),
    );
    expect(err.toInfo()).toEqual({
      errorClass: 'rate_limited',
      message: '(#130429) Rate limit hit',
      code: 130429,
      subcode: 2494055,
      httpStatus: 400,
      details: 'too many messages',
      retryAfterMs: 1000,
      fbtraceId: 'Az8or2',
    });
  });

  it('prefers a Retry-After header to the per-code hint, and gives no hint for errors not worth retrying', () => {
    expect(classifyGraphError(400, graphBody(131056)).retryAfterMs).toBe(6000);
    expect(classifyGraphError(429, graphBody(4), '30').retryAfterMs).toBe(30_000);
    expect(classifyGraphError(400, graphBody(131047), '30').retryAfterMs).toBeUndefined();
  });

  it('treats network failures as transient, and says when the request may have gone through', () => {
    const refused = classifyNetworkError(new TypeError('fetch failed', { cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) }));
    expect(refused).toMatchObject({ errorClass: 'transient', maybeSent: false });
    const timeout = classifyNetworkError(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    expect(timeout).toMatchObject({ errorClass: 'transient', maybeSent: true });
    expect(timeout.message).toMatch(/timed out/);
  });

  it('carries the classification through a Temporal failure to the workflow', () => {
    const window = toActivityFailure(classifyGraphError(400, graphBody(131047)));
    expect(window.nonRetryable).toBe(true);
    const limited = toActivityFailure(classifyGraphError(400, graphBody(130429)));
    expect(limited.nonRetryable).toBe(false);
    expect(limited.nextRetryDelay).toBe(1000);
    // What a workflow sees: an ActivityFailure-like error whose cause is the ApplicationFailure.
    const seen = new Error('Activity task failed', { cause: window });
    expect(channelErrorOf(seen)).toMatchObject({ errorClass: 'window_closed', code: 131047 });
    expect(channelErrorOf(new Error('other'))).toBeUndefined();
    expect(channelErrorOf(ApplicationFailure.create({ type: 'Other', message: 'x' }))).toBeUndefined();
  });
});

describe('verifying Meta webhook signatures', () => {
  const secret = 'app-secret-123';
  const raw = Buffer.from('{"object":"whatsapp_business_account","entry":[]}');
  const sign = (body: Buffer, key = secret) => `sha256=${createHmac('sha256', key).update(body).digest('hex')}`;

  it('accepts the HMAC-SHA256 of the raw bytes', () => {
    expect(verifyMetaSignature(raw, sign(raw), secret)).toBe(true);
    expect(verifyMetaSignature(raw, sign(raw).toUpperCase().replace('SHA256=', 'sha256='), secret)).toBe(true);
  });

  it('rejects a tampered body', () => {
    const tampered = Buffer.from(raw.toString().replace('entry', 'entrY'));
    expect(verifyMetaSignature(tampered, sign(raw), secret)).toBe(false);
  });

  it('rejects a signature made with another secret', () => {
    expect(verifyMetaSignature(raw, sign(raw, 'other'), secret)).toBe(false);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['without the algorithm', createHmac('sha256', secret).update(raw).digest('hex')],
    ['with another algorithm', `sha1=${createHmac('sha1', secret).update(raw).digest('hex')}`],
    ['too short', 'sha256=abcdef'],
    ['not hex', `sha256=${'z'.repeat(64)}`],
  ])('rejects a %s header', (_name, header) => {
    expect(verifyMetaSignature(raw, header, secret)).toBe(false);
  });

  it('rejects everything when no secret is configured', () => {
    expect(verifyMetaSignature(raw, sign(raw, ''), '')).toBe(false);
  });
});

describe('parsing WhatsApp webhooks', () => {
  const metadata = { display_phone_number: '15550783881', phone_number_id: '106540352242922' };
  const contact = { profile: { name: 'Dana' }, wa_id: '972501234567' };
  const messagesWebhook = (value: Record<string, unknown>) => ({
    object: 'whatsapp_business_account',
    entry: [{ id: '102290129340398', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata, ...value } }] }],
  });
  const inbound = (message: Record<string, unknown>) =>
    parseWhatsAppWebhook(messagesWebhook({ contacts: [contact], messages: [{ from: '972501234567', id: 'wamid.IN1', timestamp: '1739321024', ...message }] }));
  const only = <T>(events: unknown[]): T => {
    expect(events).toHaveLength(1);
    return events[0] as T;
  };

  it('reads a text message with the line, the contact and a dedupe key', () => {
    expect(only(inbound({ type: 'text', text: { body: 'Hello' } }))).toEqual({
      kind: 'message',
      dedupeKey: 'wamid.IN1',
      wabaId: '102290129340398',
      phoneNumberId: '106540352242922',
      displayPhoneNumber: '15550783881',
      messageId: 'wamid.IN1',
      timestamp: 1739321024,
      contact: { waId: '972501234567', name: 'Dana' },
      content: { type: 'text', text: 'Hello' },
      raw: { from: '972501234567', id: 'wamid.IN1', timestamp: '1739321024', type: 'text', text: { body: 'Hello' } },
    });
  });

  it('reads reply-button and list replies with the message they answer', () => {
    const button = only<WhatsAppMessageEvent>(
      inbound({ context: { from: '15550783881', id: 'wamid.OUT1' }, type: 'interactive', interactive: { type: 'button_reply', button_reply: { id: 'yes', title: 'Yes' } } }),
    );
    expect(button.content).toEqual({ type: 'button_reply', id: 'yes', title: 'Yes' });
    expect(button.replyTo).toEqual({ messageId: 'wamid.OUT1' });
    expect(replyIdOf(button.content)).toBe('yes');

    const list = only<WhatsAppMessageEvent>(
      inbound({ type: 'interactive', interactive: { type: 'list_reply', list_reply: { id: 'express', title: 'Express', description: 'Next day' } } }),
    );
    expect(list.content).toEqual({ type: 'list_reply', id: 'express', title: 'Express', description: 'Next day' });
  });

  it('reads a template quick-reply tap', () => {
    const event = only<WhatsAppMessageEvent>(inbound({ context: { id: 'wamid.TPL' }, type: 'button', button: { payload: 'STOP', text: 'Stop promotions' } }));
    expect(event.content).toEqual({ type: 'quick_reply', payload: 'STOP', text: 'Stop promotions' });
    expect(replyIdOf(event.content)).toBe('STOP');
  });

  it.each([
    ['image', { id: 'm1', mime_type: 'image/jpeg', sha256: 'abc', caption: 'look' }, { mediaId: 'm1', mimeType: 'image/jpeg', sha256: 'abc', caption: 'look' }],
    ['video', { id: 'm2', mime_type: 'video/mp4' }, { mediaId: 'm2', mimeType: 'video/mp4' }],
    ['document', { id: 'm3', mime_type: 'application/pdf', filename: 'invoice.pdf' }, { mediaId: 'm3', mimeType: 'application/pdf', filename: 'invoice.pdf' }],
    ['audio', { id: 'm4', mime_type: 'audio/ogg; codecs=opus', voice: true }, { mediaId: 'm4', mimeType: 'audio/ogg; codecs=opus', voice: true }],
    ['sticker', { id: 'm5', mime_type: 'image/webp', animated: false }, { mediaId: 'm5', mimeType: 'image/webp', animated: false }],
  ])('reads %s media', (type, media, expected) => {
    expect(only<WhatsAppMessageEvent>(inbound({ type, [type]: media })).content).toEqual({ type, ...expected });
  });

  it('reads locations, shared contacts and reactions', () => {
    expect(only<WhatsAppMessageEvent>(inbound({ type: 'location', location: { latitude: 32.08, longitude: 34.78, name: 'Office' } })).content).toEqual({
      type: 'location',
      latitude: 32.08,
      longitude: 34.78,
      name: 'Office',
    });
    const cards = [{ name: { formatted_name: 'Avi' }, phones: [{ phone: '+972 50 000 0000', type: 'CELL' }] }];
    expect(only<WhatsAppMessageEvent>(inbound({ type: 'contacts', contacts: cards })).content).toEqual({ type: 'contacts', contacts: cards });
    expect(only<WhatsAppMessageEvent>(inbound({ type: 'reaction', reaction: { message_id: 'wamid.OUT1', emoji: '👍' } })).content).toEqual({
      type: 'reaction',
      messageId: 'wamid.OUT1',
      emoji: '👍',
    });
    expect(only<WhatsAppMessageEvent>(inbound({ type: 'reaction', reaction: { message_id: 'wamid.OUT1', emoji: '' } })).content).toEqual({
      type: 'reaction',
      messageId: 'wamid.OUT1',
    });
  });

  it("keeps Meta's unsupported messages with their errors", () => {
    const event = only<WhatsAppMessageEvent>(
      inbound({ type: 'unsupported', errors: [{ code: 131051, title: 'Message type unknown', message: 'Message type unknown', error_data: { details: 'Message type is currently not supported.' } }] }),
    );
    expect(event.content).toEqual({ type: 'unsupported', originalType: 'unsupported', errors: [{ code: 131051, title: 'Message type unknown', details: 'Message type is currently not supported.' }] });
  });

  it('never throws on a message type or shape it does not know, and keeps the raw message', () => {
    const poll = only<WhatsAppMessageEvent>(inbound({ type: 'poll_vote', poll_vote: { option: 2 }, brand_new_field: true }));
    expect(poll.content).toEqual({ type: 'unsupported', originalType: 'poll_vote' });
    expect(poll.raw).toMatchObject({ poll_vote: { option: 2 }, brand_new_field: true });
    const flow = only<WhatsAppMessageEvent>(inbound({ type: 'interactive', interactive: { type: 'nfm_reply', nfm_reply: { response_json: '{}' } } }));
    expect(flow.content).toEqual({ type: 'unsupported', originalType: 'interactive.nfm_reply' });
    const broken = only<WhatsAppMessageEvent>(inbound({ type: 'text', text: 'not an object' }));
    expect(broken.content).toEqual({ type: 'unsupported', originalType: 'text' });
  });

  it('identifies a customer known only by business-scoped user id', () => {
    const events = parseWhatsAppWebhook(
      messagesWebhook({
        contacts: [{ profile: { name: 'Noa', username: '@noa' }, user_id: 'IL.123456' }],
        messages: [{ from_user_id: 'IL.123456', id: 'wamid.IN2', timestamp: '1739321024', type: 'text', text: { body: 'hi' } }],
      }),
    );
    expect(only<WhatsAppMessageEvent>(events).contact).toEqual({ userId: 'IL.123456', name: 'Noa', username: '@noa' });
  });

  it('reads statuses, with classified errors for failures, keyed by message and status', () => {
    const statuses = [
      { id: 'wamid.OUT1', status: 'sent', timestamp: '1739321030', recipient_id: '972501234567', pricing: { billable: true, pricing_model: 'PMP', category: 'utility', type: 'regular' } },
      { id: 'wamid.OUT1', status: 'delivered', timestamp: '1739321031', recipient_id: '972501234567', conversation: { id: 'conv1', origin: { type: 'utility' } } },
      { id: 'wamid.OUT1', status: 'read', timestamp: '1739321032', recipient_id: '972501234567' },
      {
        id: 'wamid.OUT2',
        status: 'failed',
        timestamp: '1739321033',
        recipient_id: '972501234567',
        errors: [{ code: 131047, title: 'Re-engagement message', message: 'Re-engagement message', error_data: { details: 'More than 24 hours' } }],
      },
    ];
    const events = parseWhatsAppWebhook(messagesWebhook({ statuses })) as WhatsAppStatusEvent[];
    expect(events.map((e) => [e.kind, e.dedupeKey, e.status])).toEqual([
      ['status', 'wamid.OUT1:sent', 'sent'],
      ['status', 'wamid.OUT1:delivered', 'delivered'],
      ['status', 'wamid.OUT1:read', 'read'],
      ['status', 'wamid.OUT2:failed', 'failed'],
    ]);
    expect(events[0]).toMatchObject({
      messageId: 'wamid.OUT1',
      phoneNumberId: '106540352242922',
      timestamp: 1739321030,
      contact: { waId: '972501234567' },
      errors: [],
      pricing: { billable: true, pricingModel: 'PMP', category: 'utility', type: 'regular' },
    });
    expect(events[1].conversationId).toBe('conv1');
    expect(events[3].errors).toEqual([{ errorClass: 'window_closed', code: 131047, message: 'Re-engagement message', details: 'More than 24 hours' }]);
  });

  it('turns a status it does not know into an "other" event', () => {
    const [event] = parseWhatsAppWebhook(messagesWebhook({ statuses: [{ id: 'wamid.OUT1', status: 'deleted', timestamp: '1739321030' }] }));
    expect(event).toMatchObject({ kind: 'other', field: 'messages', phoneNumberId: '106540352242922' });
  });

  it('reports errors Meta raises for the whole line', () => {
    const [event] = parseWhatsAppWebhook(messagesWebhook({ errors: [{ code: 130429, title: 'Rate limit hit', message: 'Rate limit hit', error_data: { details: 'too many' } }] }));
    expect(event).toMatchObject({ kind: 'error', phoneNumberId: '106540352242922', errors: [{ errorClass: 'rate_limited', code: 130429, details: 'too many' }] });
    expect(event.dedupeKey).toMatch(/^errors:[0-9a-f]{64}$/);
  });

  it('passes other fields through with a stable dedupe key', () => {
    const body = {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '102290129340398',
          time: 1739321100,
          changes: [
            { field: 'message_template_status_update', value: { event: 'APPROVED', message_template_id: 123, message_template_name: 'welcome', message_template_language: 'en_US' } },
            { field: 'account_update', value: { phone_number: '15550783881', event: 'VERIFIED_ACCOUNT' } },
          ],
        },
      ],
    };
    const events = parseWhatsAppWebhook(body);
    expect(events.map((e) => [e.kind, (e as { field?: string }).field, e.wabaId])).toEqual([
      ['other', 'message_template_status_update', '102290129340398'],
      ['other', 'account_update', '102290129340398'],
    ]);
    expect(events[0]).toMatchObject({ timestamp: 1739321100, value: { event: 'APPROVED' } });
    expect(parseWhatsAppWebhook(structuredClone(body)).map((e) => e.dedupeKey)).toEqual(events.map((e) => e.dedupeKey));
    expect(events[0].dedupeKey).not.toBe(events[1].dedupeKey);
  });

  it('reads several entries and changes, messages and statuses together', () => {
    const body = messagesWebhook({
      contacts: [contact],
      messages: [{ from: '972501234567', id: 'wamid.IN1', timestamp: '1739321024', type: 'text', text: { body: 'a' } }],
      statuses: [{ id: 'wamid.OUT1', status: 'delivered', timestamp: '1739321025', recipient_id: '972501234567' }],
    });
    expect(parseWhatsAppWebhook(body).map((e) => e.kind)).toEqual(['message', 'status']);
  });

  it('rejects a body that is not a WhatsApp Business Account webhook', () => {
    expect(() => parseWhatsAppWebhook({ object: 'page', entry: [] })).toThrow(/Not a WhatsApp/);
    expect(() => parseWhatsAppWebhook('nonsense')).toThrow(/Not a WhatsApp/);
  });
});

describe('outbound message limits', () => {
  it('accepts what WhatsApp accepts and rejects what it would refuse', () => {
    const buttons = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `b${i}`, title: `Option ${i}` }));
    expect(outboundMessageSchema.safeParse({ type: 'buttons', body: 'Pick', buttons: buttons(3) }).success).toBe(true);
    expect(outboundMessageSchema.safeParse({ type: 'buttons', body: 'Pick', buttons: buttons(4) }).success).toBe(false);
    expect(outboundMessageSchema.safeParse({ type: 'buttons', body: 'Pick', buttons: [{ id: 'a', title: 'x' }, { id: 'a', title: 'y' }] }).success).toBe(false);
    const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `r${i}`, title: `Row ${i}` }));
    expect(outboundMessageSchema.safeParse({ type: 'list', body: 'Menu', buttonText: 'Open', sections: [{ rows: rows(10) }] }).success).toBe(true);
    expect(outboundMessageSchema.safeParse({ type: 'list', body: 'Menu', buttonText: 'Open', sections: [{ title: 'A', rows: rows(6) }, { title: 'B', rows: rows(5) }] }).success).toBe(false);
    expect(outboundMessageSchema.safeParse({ type: 'image', link: 'https://example.com/a.jpg', id: '123' }).success).toBe(false);
    expect(outboundMessageSchema.safeParse({ type: 'audio', id: '123', caption: 'no' }).success).toBe(false);
    expect(outboundMessageSchema.safeParse({ type: 'template', name: 'x', language: 'en', params: ['a'], components: [{ type: 'body', parameters: [{ type: 'text', text: 'b' }] }] }).success).toBe(false);
  });
});
