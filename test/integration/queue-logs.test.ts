import { randomBytes, randomUUID } from 'node:crypto';
import { upsertConversation } from '../../core/conversations/store';
import { apiTokenFor, signedInAccount, type TestAccount } from '../support/accounts';
import { eventually, openJourneyStack, type JourneyStack } from '../support/journey-stack';

/**
 * GET /api/webhook/queue-logs: the outbound queue — message rows and the campaign recipients not sent to yet —
 * filtered by state, campaign and line, a page at a time, each tenant seeing its own.
 */

let js: JourneyStack;
let outsider: TestAccount;
let admin: TestAccount;
let line: { id: string; phoneNumberId: string };
let campaignId: string;
const recipients: Record<'waiting' | 'skipped' | 'sent', { id: string; contact: string }> = {} as never;
let replyId: string;

const digits = (n: number) => Array.from(randomBytes(n), (b) => String(b % 10)).join('').replace(/^0/, '1');
const conn = () => js.stack.orm.em.getConnection();

beforeAll(async () => {
  js = await openJourneyStack();
  outsider = await signedInAccount(js.stack);
  admin = await signedInAccount(js.stack, { role: 'admin' });
  const created = await js.owner.agent.post('/api/settings/whatsapp').send({ phoneNumberId: digits(12), wabaId: '2000001', accessToken: js.sim.accessToken });
  line = { id: created.body.id, phoneNumberId: created.body.phoneNumberId };
  const tenantId = js.owner.user.tenantId;

  // A campaign written straight to its tables (no workflow sends it): one recipient waiting, one who opted
  // out, one whose message went out.
  campaignId = randomUUID();
  await conn().execute(
    `insert into campaigns (id, tenant_id, line_id, name, message, recipient_count, workflow_id, created_at) values (?, ?, ?, 'queue', ?, 3, ?, now() - interval '1 minute')`,
    [campaignId, tenantId, line.id, JSON.stringify({ type: 'template', name: 'spring_sale', language: 'en', params: [] }), `campaign/${tenantId}/${campaignId}`],
  );
  for (const [key, state, skip] of [['waiting', 'pending', null], ['skipped', 'skipped', 'opted_out'], ['sent', 'sent', null]] as const) {
    const contact = `97257${digits(7)}`;
    const [row] = await conn().execute<Array<{ id: string }>>(
      `insert into campaign_recipients (campaign_id, tenant_id, contact, state, skip_reason) values (?, ?, ?, ?, ?) returning id`,
      [campaignId, tenantId, contact, state, skip],
    );
    recipients[key] = { id: String(row.id), contact };
  }
  const conversation = await upsertConversation(js.stack.orm.em.fork(), { tenantId, channel: 'whatsapp', lineId: line.id, contact: recipients.sent.contact });
  await conn().execute(
    `insert into messages (id, tenant_id, conversation_id, direction, type, payload, status, idempotency_key, campaign_id, sent_by, template_name, attempts, provider_message_id)
     values (?, ?, ?, 'out', 'template', '{}', 'sent', ?, ?, 'campaign', 'spring_sale', 1, ?)`,
    [randomUUID(), tenantId, conversation.id, `campaign/${campaignId}/${recipients.sent.id}`, campaignId, `wamid.queue${digits(8)}`],
  );

  // An agent's reply on the same line, which goes out for real.
  const replied = await upsertConversation(js.stack.orm.em.fork(), { tenantId, channel: 'whatsapp', lineId: line.id, contact: `97257${digits(7)}` });
  const res = await js.owner.agent.post(`/api/conversations/${replied.id}/reply`).send({ messageType: 'template', templateName: 'hello_world', templateLanguage: 'en' });
  expect(res.status).toBe(200);
  replyId = (await conn().execute<Array<{ id: string }>>(`select id from messages where conversation_id = ?`, [replied.id]))[0].id;
  await eventually(async () => (await conn().execute<Array<{ status: string }>>(`select status from messages where id = ?`, [replyId]))[0].status === 'read', 'the reply to be read');
}, 90_000);
afterAll(async () => js?.close());

const queue = (account: TestAccount, query: Record<string, string | number>) => account.agent.get('/api/webhook/queue-logs').query(query);

describe('GET /api/webhook/queue-logs', () => {
  it('lists the line’s messages and the campaign recipients not sent to yet, newest first, each once, with its state', async () => {
    const res = await queue(js.owner, { lineId: line.id });
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(4);
    expect(res.body.entries.map((e: { kind: string; state: string }) => `${e.kind}:${e.state}`)).toEqual([
      'message:read',
      'message:sent',
      expect.stringMatching(/^campaign_recipient:(waiting|skipped)$/),
      expect.stringMatching(/^campaign_recipient:(waiting|skipped)$/),
    ]);
    expect(res.body.entries[0]).toMatchObject({ messageId: replyId, phoneNumberId: line.phoneNumberId, templateName: 'hello_world', sentBy: js.owner.user.id });
    const skipped = res.body.entries.find((e: { state: string }) => e.state === 'skipped');
    expect(skipped).toMatchObject({ id: recipients.skipped.id, phone: `+${recipients.skipped.contact}`, campaignId, error: 'opted_out', messageId: null });
  });

  it('filters by state, campaign and line, a page at a time', async () => {
    const waiting = await queue(js.owner, { state: 'waiting', campaignId });
    expect(waiting.body).toMatchObject({ total: 1, entries: [{ kind: 'campaign_recipient', id: recipients.waiting.id, templateName: 'spring_sale' }] });
    const ofCampaign = await queue(js.owner, { campaignId, limit: 2, offset: 2 });
    expect(ofCampaign.body).toMatchObject({ total: 3, limit: 2, offset: 2 });
    expect(ofCampaign.body.entries).toHaveLength(1);
    expect((await queue(js.owner, { phoneNumberId: line.phoneNumberId, state: 'read' })).body.entries.map((e: { messageId: string }) => e.messageId)).toEqual([replyId]);
    expect((await queue(js.owner, { lineId: js.line.id, campaignId })).body.total).toBe(0);
  });

  it('shows each tenant its own queue; administrators every tenant’s; signed-in owners and administrators only', async () => {
    expect((await queue(outsider, { campaignId })).body).toMatchObject({ total: 0, entries: [] });
    expect((await queue(outsider, { tenantId: js.owner.user.tenantId })).status).toBe(403);
    expect((await queue(admin, { campaignId })).body.total).toBe(3);
    expect((await queue(admin, { tenantId: outsider.user.tenantId, campaignId })).body.total).toBe(0);
    const member = await signedInAccount(js.stack, { role: 'user', tenantId: js.owner.user.tenantId });
    expect((await queue(member, {})).status).toBe(403);
    const token = await apiTokenFor(js.stack, js.owner.user);
    expect((await js.stack.http().get('/api/webhook/queue-logs').set('Authorization', `Bearer ${token}`)).status).toBe(403);
  });

  it('refuses bad filters with 400 {error}', async () => {
    const queries: Array<Record<string, string | number>> = [{ state: 'lost' }, { lineId: 'nope' }, { phoneNumberId: '+1' }, { limit: 1000 }];
    for (const query of queries) {
      const res = await queue(js.owner, query);
      expect(res.status).toBe(400);
      expect(res.body.error).toEqual(expect.any(String));
    }
  });
});
