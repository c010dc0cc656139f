import { randomBytes } from 'node:crypto';
import { signTwilioRequest } from '../../dev/sms-simulator/signing';
import { startSmsSimulator, type RunningSmsSimulator } from '../../dev/sms-simulator/server';
import { apiTokenFor, signedInAccount } from '../support/accounts';
import { eventually, openJourneyStack, type JourneyStack } from '../support/journey-stack';

/**
 * The fallback engine's last channel: a template group none of whose WhatsApp templates can be sent goes out
 * as an SMS through the SMS simulator (Twilio's wire format), whose signed status callbacks move the message on.
 */

let js: JourneyStack;
let sms: RunningSmsSimulator;
let token: string;
let wabaA: string;
let flowId: string;

const accountSid = `AC${randomBytes(16).toString('hex')}`;
const authToken = `sms-token-${randomBytes(8).toString('hex')}`;
const sender = '+15005550006';
const unique = (prefix: string) => `${prefix}_${randomBytes(4).toString('hex')}`;
const digits = (n: number) => Array.from(randomBytes(n), (b) => String(b % 10)).join('').replace(/^0/, '1');
let phoneSeq = 0;
const newPhone = () => `97255${String(Date.now() % 1_000_000).padStart(6, '0')}${phoneSeq++}`;

const api = () => js.owner.agent;
const callbackUrl = () => `${js.apiUrl}/api/webhook/sms/status`;
const smsSettings = (fields: Record<string, unknown> = {}) =>
  api()
    .put('/api/settings/sms')
    .send({ accountSid, authToken, from: sender, baseUrl: sms.url, statusCallbackUrl: callbackUrl(), fallbackEnabled: true, ...fields });

beforeAll(async () => {
  sms = await startSmsSimulator({ accounts: { [accountSid]: authToken } });
  js = await openJourneyStack();
  token = await apiTokenFor(js.stack, js.owner.user);
  wabaA = digits(15);
  expect((await api().put(`/api/settings/whatsapp/${js.line.id}`).send({ wabaId: wabaA })).status).toBe(200);
  expect((await smsSettings()).status).toBe(201);
  const created = await api()
    .post('/api/flows')
    .send({ name: 'SMS fallback', graph: { nodes: [{ id: 'start', type: 'trigger_outbound', data: {} }, { id: 'done', type: 'end', data: {} }], edges: [{ source: 'start', target: 'done' }] } });
  expect((await api().post(`/api/flows/${created.body.id}/versions`)).status).toBe(201);
  expect((await api().put(`/api/flows/${created.body.id}`).send({ status: 'active' })).status).toBe(200);
  flowId = created.body.id;
}, 60_000);
afterAll(async () => {
  await sms?.settled();
  await js?.close();
  await sms?.close();
});
afterEach(async () => {
  await js.sim.configure({ failTemplates: {} });
  sms.configure({ failNext: [], dropAnswers: 0 });
  await smsSettings();
});

/** An APPROVED template of the tenant's WABA with this body text. */
async function approvedTemplate(text: string): Promise<{ id: string; name: string }> {
  const res = await api().post('/api/templates').send({ name: unique('sms_fb'), language: 'en', category: 'UTILITY', components: [{ type: 'BODY', text }] });
  expect(res.status).toBe(201);
  await eventually(async () => (await api().get(`/api/templates/${res.body.id}`)).body.status === 'APPROVED', 'the template to be approved');
  return { id: res.body.id, name: res.body.name };
}

/** A group of two templates that WhatsApp cannot deliver to anyone (131026), sent to a new contact by the outbound trigger. */
async function undeliverableGroupSend(params: string[]): Promise<{ phone: string; sourceRef: string; first: { name: string }; second: { name: string } }> {
  const first = await approvedTemplate('Hello {{1}}, your code is {{2}}');
  const second = await approvedTemplate('Hi {{1}}: code {{2}}');
  const group = await api().post('/api/templates/groups').send({ name: unique('group'), templateIds: [first.id, second.id] });
  expect(group.status).toBe(201);
  await js.sim.configure({ failTemplates: { [first.name]: 131026, [second.name]: 131026 } });
  const phone = newPhone();
  const sourceRef = unique('crm');
  const res = await js.stack
    .http()
    .post('/api/webhook/outbound')
    .set('Authorization', `Bearer ${token}`)
    .send({ phone, flowId, templateGroupId: group.body.id, data: { sourceRef, templateParams: params } });
  expect(res.status).toBe(200);
  return { phone, sourceRef, first, second };
}

const outboundStatus = (sourceRef: string) =>
  js.stack.http().post('/api/webhook/outbound-status').set('Authorization', `Bearer ${token}`).send({ sourceRef });
const messageWith = (sourceRef: string, status: string) =>
  eventually(async () => {
    const m = (await outboundStatus(sourceRef)).body.messages?.[0];
    return m?.status === status ? m : undefined;
  }, `the message to be ${status}`);
const attemptsOf = (sourceRef: string) =>
  js.stack.orm.em
    .getConnection()
    .execute<Array<{ channel: string; outcome: string; phone_number_id: string; provider_message_id: string | null; error_code: number | null }>>(
      `select a.channel, a.outcome, a.phone_number_id, a.provider_message_id, a.error_code from message_attempts a join messages m on m.id = a.message_id
       where m.source_ref = ? order by a.attempt_no`,
      [sourceRef],
    );

describe('SMS fallback', () => {
  it('sends the last template as an SMS once every WhatsApp template failed, records it as the last attempt, and the signed callbacks deliver it', async () => {
    const { phone, sourceRef, second } = await undeliverableGroupSend(['Noa', '4711']);
    const [sent] = await eventually(async () => {
      const m = sms.messages({ to: `+${phone}` });
      return m.length ? m : undefined;
    }, 'the SMS');
    expect(sent).toMatchObject({ body: 'Hi Noa: code 4711', from: sender, accountSid });

    const delivered = await messageWith(sourceRef, 'delivered');
    expect(delivered).toMatchObject({ providerMessageId: sent.sid, templateName: second.name });
    // Integrators polling and operators in the delivery monitor see which attempt went by SMS.
    expect(delivered.attempts.map((a: { channel: string; phoneNumberId: string }) => [a.channel, a.phoneNumberId])).toEqual([
      ['whatsapp', js.line.phoneNumberId],
      ['whatsapp', js.line.phoneNumberId],
      ['sms', sender],
    ]);
    const audit = await api().get('/api/monitor/delivery').query({ messageId: delivered.messageId });
    expect(audit.status).toBe(200);
    expect(audit.body.attempts.map((a: { channel: string }) => a.channel)).toEqual(['whatsapp', 'whatsapp', 'sms']);
    expect(await attemptsOf(sourceRef)).toEqual([
      expect.objectContaining({ channel: 'whatsapp', outcome: 'failed', error_code: 131026 }),
      expect.objectContaining({ channel: 'whatsapp', outcome: 'failed', error_code: 131026 }),
      expect.objectContaining({ channel: 'sms', outcome: 'sent', phone_number_id: sender, provider_message_id: sent.sid }),
    ]);
    const [row] = await js.stack.orm.em.getConnection().execute<Array<{ payload: Record<string, unknown> }>>(`select payload from messages where source_ref = ?`, [sourceRef]);
    expect(row.payload).toMatchObject({ channel: 'sms', text: 'Hi Noa: code 4711', from: sender, name: second.name });

    await sms.settled();
    expect(sms.messages({ to: `+${phone}` })).toHaveLength(1);
    expect(sms.callbacks().filter((c) => c.params.MessageSid === sent.sid).map((c) => [c.params.MessageStatus, c.status])).toEqual([
      ['queued', 200],
      ['sent', 200],
      ['delivered', 200],
    ]);
  });

  it('with fallbackEnabled false sends nothing by SMS, and the message fails as before', async () => {
    expect((await api().put('/api/settings/sms').send({ fallbackEnabled: false })).status).toBe(200);
    const { phone, sourceRef } = await undeliverableGroupSend(['Dan', '1']);
    const failed = await messageWith(sourceRef, 'failed');
    expect(failed).toMatchObject({ errorCode: 131026, errorTitle: expect.stringMatching(/No template could be sent/) });
    expect((await attemptsOf(sourceRef)).map((a) => a.channel)).toEqual(['whatsapp', 'whatsapp']);
    expect(sms.messages({ to: `+${phone}` })).toEqual([]);
  });

  it('an SMS the provider refuses for good leaves the message failed, with the attempt recorded', async () => {
    sms.configure({ failNext: [{ code: 21614 }] });
    const { phone, sourceRef } = await undeliverableGroupSend(['Ori', '2']);
    await messageWith(sourceRef, 'failed');
    expect((await attemptsOf(sourceRef)).map((a) => [a.channel, a.outcome, a.error_code])).toEqual([
      ['whatsapp', 'failed', 131026],
      ['whatsapp', 'failed', 131026],
      ['sms', 'failed', 21614],
    ]);
    expect(sms.messages({ to: `+${phone}` })).toEqual([]);
  });

  it('an SMS whose answer was lost is found at the provider on the retry, not sent again', async () => {
    // No status callback either: only the provider's own list can tell the retry that it went out.
    expect((await api().put('/api/settings/sms').send({ statusCallbackUrl: null })).status).toBe(200);
    sms.configure({ dropAnswers: 1 });
    const { phone, sourceRef } = await undeliverableGroupSend(['Lea', '3']);
    const sent = await messageWith(sourceRef, 'sent');
    const at = sms.messages({ to: `+${phone}` });
    expect(at).toHaveLength(1);
    expect(sent.providerMessageId).toBe(at[0].sid);
    expect((await attemptsOf(sourceRef)).at(-1)).toMatchObject({ channel: 'sms', outcome: 'sent', provider_message_id: at[0].sid });
  }, 60_000);
});

describe('the SMS status callback', () => {
  it('answers 403 to a bad signature and changes nothing; a good one applies', async () => {
    const { phone, sourceRef } = await undeliverableGroupSend(['Tal', '5']);
    const delivered = await messageWith(sourceRef, 'delivered');
    const [{ message_id: messageId, attempt_no: attemptNo }] = await js.stack.orm.em
      .getConnection()
      .execute<Array<{ message_id: string; attempt_no: number }>>(`select message_id, attempt_no from message_attempts where provider_message_id = ? and channel = 'sms'`, [
        delivered.providerMessageId,
      ]);
    const url = `${callbackUrl()}?attempt=${messageId}.${attemptNo}`;
    const params = { MessageSid: delivered.providerMessageId, MessageStatus: 'failed', ErrorCode: '30003', AccountSid: accountSid, To: `+${phone}` };
    const post = (signature: string) =>
      js.stack.http().post(`/api/webhook/sms/status?attempt=${messageId}.${attemptNo}`).set('Host', new URL(js.apiUrl).host).set('X-Twilio-Signature', signature).type('form').send(params);

    const forged = await post(signTwilioRequest('not-the-token', url, params));
    expect(forged.status).toBe(403);
    expect(forged.body.error).toMatch(/X-Twilio-Signature/);
    expect((await post('')).status).toBe(403);
    expect((await outboundStatus(sourceRef)).body.messages[0].status).toBe('delivered');

    const genuine = await post(signTwilioRequest(authToken, url, params));
    expect(genuine.status).toBe(200);
    expect((await outboundStatus(sourceRef)).body.messages[0]).toMatchObject({ status: 'failed', errorCode: 30003 });
  });

  it('answers 404 for an SMS it never sent and 400 for a body without MessageSid', async () => {
    const unknown = await js.stack.http().post('/api/webhook/sms/status').type('form').send({ MessageSid: 'SMnope', MessageStatus: 'delivered' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toEqual(expect.any(String));
    const bad = await js.stack.http().post('/api/webhook/sms/status').type('form').send({ MessageStatus: 'delivered' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/MessageSid/);
  });
});

describe('SMS settings', () => {
  it('never return the auth token, and keep it when a later save leaves it out', async () => {
    const got = await api().get('/api/settings/sms');
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ provider: 'twilio', accountSid, from: sender, baseUrl: sms.url, fallbackEnabled: true, authToken: `****${authToken.slice(-4)}` });
    expect(JSON.stringify(got.body)).not.toContain(authToken);
    const changed = await api().put('/api/settings/sms').send({ from: '+15005550007' });
    expect(changed.status).toBe(200);
    expect(JSON.stringify(changed.body)).not.toContain(authToken);
    const [stored] = await js.stack.orm.em.getConnection().execute<Array<{ auth_token_sealed: string }>>(`select auth_token_sealed from sms_settings where tenant_id = ?`, [js.owner.user.tenantId]);
    expect(stored.auth_token_sealed).not.toContain(authToken);
  });

  it('answer 400 naming the field for bad input, 403 to a plain user, and need a session', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ from: '0501234567' }, /from: must be an E\.164 number/],
      [{ baseUrl: 'ftp://example.com' }, /baseUrl: must be an http\(s\) URL/],
      [{ messagingServiceSid: 'XX1' }, /messagingServiceSid: must be a messaging service SID/],
      [{ fallbackEnabled: 'yes' }, /fallbackEnabled/],
      [{}, /give at least one field to change/],
    ];
    for (const [body, error] of cases) {
      const res = await api().put('/api/settings/sms').send(body);
      expect([res.status, res.body.error]).toEqual([400, expect.stringMatching(error)]);
    }
    const newcomer = await signedInAccount(js.stack);
    const first = await newcomer.agent.put('/api/settings/sms').send({ accountSid: 'AC123', from: sender });
    expect([first.status, first.body.error]).toEqual([400, expect.stringMatching(/authToken: required for a first save/)]);
    const member = await signedInAccount(js.stack, { role: 'user', tenantId: js.owner.user.tenantId });
    expect((await member.agent.put('/api/settings/sms').send({ fallbackEnabled: false })).status).toBe(403);
    expect((await member.agent.delete('/api/settings/sms')).status).toBe(403);
    expect((await js.stack.http().get('/api/settings/sms').set('Authorization', `Bearer ${token}`)).status).toBe(403);
  });

  it("are the tenant's own: another tenant sees none, and its writes touch only its own", async () => {
    const outsider = await signedInAccount(js.stack);
    const got = await outsider.agent.get('/api/settings/sms');
    expect([got.status, typeof got.body.error]).toEqual([404, 'string']);
    expect((await outsider.agent.delete('/api/settings/sms')).status).toBe(404);
    const own = await outsider.agent.put('/api/settings/sms').send({ accountSid: 'ACother', authToken: 'other-token-123', from: '+15005550009' });
    expect(own.status).toBe(201);
    expect((await outsider.agent.delete('/api/settings/sms')).status).toBe(200);
    expect((await api().get('/api/settings/sms')).body).toMatchObject({ accountSid, fallbackEnabled: true });
  });
});
