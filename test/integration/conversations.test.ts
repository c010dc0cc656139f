import { Client, Connection } from '@temporalio/client';
import request from 'supertest';
import { buildApp } from '../../api/app';
import { upsertConversation } from '../../core/conversations/store';
import type { ConversationStatus } from '../../core/db/entities';
import { newId } from '../../core/ids';
import type { JourneyState } from '../../core/journey/types';
import { apiTokenFor, signedInAccount, uniqueIp, type TestAccount } from '../support/accounts';
import { freePort } from '../support/free-port';
import { eventually, openJourneyStack, type JourneyStack } from '../support/journey-stack';
import { expectTenantIsolation } from '../support/tenant-isolation';

/**
 * The agents' inbox against the real stack: the API in-process, PostgreSQL, Temporal with a real worker,
 * and the WhatsApp Cloud API simulator as its own process, on a line whose token the simulator accepts.
 */

let js: JourneyStack;
let token: string;

beforeAll(async () => {
  js = await openJourneyStack();
  token = await apiTokenFor(js.stack, js.owner.user);
}, 60_000);
afterAll(async () => js?.close());

const HOUR = 3600_000;
const ago = (ms: number) => new Date(Date.now() - ms);

let phoneSeq = 0;
const newPhone = () => `97252${String(Date.now() % 1_000_000).padStart(6, '0')}${phoneSeq++}`;

interface Seed {
  tenantId?: string;
  lineId?: string;
  contact?: string;
  name?: string | null;
  status?: ConversationStatus;
  assignedUserId?: string | null;
  flowId?: string | null;
  lastMessage?: string;
  lastMessageAt?: Date | null;
  /** Defaults to an hour ago: the window is open. */
  lastCustomerMessageAt?: Date | null;
}

/** A conversation row, as the webhook dispatcher or a journey would have left it. Defaults: the owner's line. */
async function seedConversation(seed: Seed = {}): Promise<{ id: string; contact: string }> {
  const em = js.stack.orm.em.fork();
  const contact = seed.contact ?? newPhone();
  const key = { tenantId: seed.tenantId ?? js.owner.user.tenantId, channel: 'whatsapp' as const, lineId: seed.lineId ?? js.line.id, contact };
  const { id } = await upsertConversation(em, key, { customerName: seed.name === undefined ? 'Dana Levi' : seed.name });
  const lastCustomer = seed.lastCustomerMessageAt === undefined ? ago(HOUR) : seed.lastCustomerMessageAt;
  await em.getConnection().execute(
    `update conversations set status = ?, assigned_user_id = ?, flow_id = ?, last_message = ?, last_message_at = ?, last_customer_message_at = ? where id = ?`,
    [seed.status ?? 'bot', seed.assignedUserId ?? null, seed.flowId ?? null, seed.lastMessage ?? 'Hello, I need help', seed.lastMessageAt ?? lastCustomer, lastCustomer, id],
  );
  return { id, contact };
}

const sql = <T>(query: string, params: unknown[] = []) => js.stack.orm.em.fork().getConnection().execute<T[]>(query, params);
const rowOf = async (id: string) => (await sql<{ status: string; assigned_user_id: string | null }>(`select status, assigned_user_id from conversations where id = ?`, [id]))[0];
const messageRows = (conversationId: string) =>
  sql<{ direction: string; type: string; text: string; status: string; sent_by: string | null; provider_message_id: string | null }>(
    `select direction, type, text, status, sent_by, provider_message_id from messages where conversation_id = ? order by created_at`,
    [conversationId],
  );

const reply = (agent: TestAccount, conversationId: string, body: object) => agent.agent.post(`/api/conversations/${conversationId}/reply`).send(body);

/** An account on a tenant of its own, for list tests that must see exactly their own conversations. */
async function freshInbox() {
  const owner = await signedInAccount(js.stack);
  const lineId = newId();
  return { owner, lineId, seed: (s: Seed = {}) => seedConversation({ tenantId: owner.user.tenantId, lineId, ...s }) };
}

describe('GET /api/conversations', () => {
  it("lists the tenant's conversations, most recent activity first, in the seed's shape", async () => {
    const inbox = await freshInbox();
    const older = await inbox.seed({ name: 'Old Timer', lastMessageAt: ago(5 * HOUR), lastCustomerMessageAt: ago(30 * HOUR) });
    const newer = await inbox.seed({ name: 'Dana Levi', lastMessage: 'Where is my order?', lastMessageAt: ago(HOUR / 60) });
    await seedConversation({ name: 'Other tenant' }); // the owner of the journey stack: another tenant

    const res = await inbox.owner.agent.get('/api/conversations');
    expect(res.status).toBe(200);
    expect(Array.isArray(res.body)).toBe(true);
    expect(res.body.map((c: { id: string }) => c.id)).toEqual([newer.id, older.id]);
    expect(res.headers['x-total-count']).toBe('2');
    expect(res.body[0]).toMatchObject({
      id: newer.id,
      waPhoneNumber: `+${newer.contact}`,
      customerName: 'Dana Levi',
      flowId: null,
      status: 'bot',
      lastMessage: 'Where is my order?',
      startedAt: expect.any(String),
      lastCustomerMessageAt: expect.any(String),
      windowOpen: true,
      assignedUserId: null,
      lineId: inbox.lineId,
      channel: 'whatsapp',
    });
    expect(res.body[1]).toMatchObject({ customerName: 'Old Timer', windowOpen: false });
  });

  it('answers an integrator with an API token', async () => {
    const { id } = await seedConversation();
    const res = await js.stack.http().get('/api/conversations?limit=200').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(res.body.some((c: { id: string }) => c.id === id)).toBe(true);
    expect((await js.stack.http().get('/api/conversations')).status).toBe(401);
  });

  it('filters by status, assignee, phone or name, flow and line, and pages', async () => {
    const inbox = await freshInbox();
    const colleague = await signedInAccount(js.stack, { role: 'user', tenantId: inbox.owner.user.tenantId });
    const flowId = newId();
    const otherLine = newId();
    const mine = await inbox.seed({ status: 'agent', assignedUserId: inbox.owner.user.id, name: 'Mine', lastMessageAt: ago(1000) });
    const theirs = await inbox.seed({ status: 'agent', assignedUserId: colleague.user.id, name: 'Theirs', lastMessageAt: ago(2000) });
    const bot = await inbox.seed({ status: 'bot', flowId, name: 'Rivka Cohen', contact: '972541112233', lastMessageAt: ago(3000) });
    const closed = await inbox.seed({ status: 'closed', lineId: otherLine, name: 'Closed one', lastMessageAt: ago(4000) });
    const ids = async (query: string) => {
      const res = await inbox.owner.agent.get(`/api/conversations?${query}`);
      expect(res.status).toBe(200);
      return res.body.map((c: { id: string }) => c.id);
    };

    expect(await ids('status=agent')).toEqual([mine.id, theirs.id]);
    expect(await ids('status=closed')).toEqual([closed.id]);
    expect(await ids('assignedTo=me')).toEqual([mine.id]);
    expect(await ids(`assignedTo=${colleague.user.id}`)).toEqual([theirs.id]);
    expect(await ids('assignedTo=unassigned')).toEqual([bot.id, closed.id]);
    expect(await ids(`search=${encodeURIComponent('+972 54-111')}`)).toEqual([bot.id]);
    expect(await ids('search=rivka')).toEqual([bot.id]);
    expect(await ids(`flowId=${flowId}`)).toEqual([bot.id]);
    expect(await ids(`lineId=${otherLine}`)).toEqual([closed.id]);
    expect(await ids('limit=2')).toEqual([mine.id, theirs.id]);
    expect(await ids('limit=2&offset=2')).toEqual([bot.id, closed.id]);
  });

  it('answers {conversations, stats} with the counts by status when stats=1', async () => {
    const inbox = await freshInbox();
    await inbox.seed({ status: 'bot' });
    await inbox.seed({ status: 'bot' });
    await inbox.seed({ status: 'agent', assignedUserId: inbox.owner.user.id });
    await inbox.seed({ status: 'closed' });

    const res = await inbox.owner.agent.get('/api/conversations?stats=1&status=bot');
    expect(res.status).toBe(200);
    expect(res.body.stats).toEqual({ bot: 2, agent: 1, closed: 1, total: 4 });
    expect(res.body.conversations).toHaveLength(2);
    expect(res.body.conversations.every((c: { status: string }) => c.status === 'bot')).toBe(true);

    const assigned = await inbox.owner.agent.get('/api/conversations?stats=1&assignedTo=me');
    expect(assigned.body.stats).toEqual({ bot: 0, agent: 1, closed: 0, total: 1 });
  });

  it('answers 400 naming the parameter when a filter is invalid', async () => {
    const res = await js.owner.agent.get('/api/conversations?status=open');
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/^Invalid query: status:/);
    const limit = await js.owner.agent.get('/api/conversations?limit=500');
    expect(limit.status).toBe(400);
    expect(limit.body.error).toMatch(/limit/);
  });
});

describe('GET /api/conversations/:id', () => {
  it('shows the messages with their delivery states, the window, and the Temporal Web link', async () => {
    const { id, contact } = await seedConversation({ name: 'Dana Levi' });
    const at = (s: number) => new Date(Date.now() - 60_000 + s * 1000);
    const insert = (direction: string, text: string, status: string, s: number, extra: { errorCode?: number; errorTitle?: string; wamid?: string } = {}) =>
      sql(
        `insert into messages (id, tenant_id, conversation_id, direction, type, text, payload, status, provider_message_id, error_code, error_title, created_at)
         values (?, ?, ?, ?, 'text', ?, '{}', ?, ?, ?, ?, ?)`,
        [newId(), js.owner.user.tenantId, id, direction, text, status, extra.wamid ?? null, extra.errorCode ?? null, extra.errorTitle ?? null, at(s)],
      );
    await insert('in', 'Hi', 'received', 1, { wamid: `wamid.in-${contact}` });
    await insert('out', 'Hello! How can I help?', 'read', 2, { wamid: `wamid.out1-${contact}` });
    await insert('out', 'Are you there?', 'failed', 3, { errorCode: 131026, errorTitle: 'Message undeliverable' });

    const res = await js.owner.agent.get(`/api/conversations/${id}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, waPhoneNumber: `+${contact}`, windowOpen: true, messagesTotal: 3, journey: null });
    expect(res.body.journeyError).toBeUndefined();
    expect(res.body.messages.map((m: { text: string; direction: string; status: string }) => [m.direction, m.text, m.status])).toEqual([
      ['in', 'Hi', 'received'],
      ['out', 'Hello! How can I help?', 'read'],
      ['out', 'Are you there?', 'failed'],
    ]);
    expect(res.body.messages[0].providerMessageId).toBe(`wamid.in-${contact}`);
    expect(res.body.messages[2]).toMatchObject({ errorCode: 131026, errorTitle: 'Message undeliverable', providerMessageId: null });
    const workflowId = `journey/${js.owner.user.tenantId}/whatsapp/${js.line.id}/${contact}`;
    expect(res.body.journeyWorkflowId).toBe(workflowId);
    expect(res.body.temporalUrl).toMatch(new RegExp(`/namespaces/default/workflows/${encodeURIComponent(workflowId).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));

    const newest = await js.owner.agent.get(`/api/conversations/${id}?limit=2`);
    expect(newest.body.messages.map((m: { text: string }) => m.text)).toEqual(['Hello! How can I help?', 'Are you there?']);
    const older = await js.owner.agent.get(`/api/conversations/${id}?limit=2&offset=2`);
    expect(older.body.messages.map((m: { text: string }) => m.text)).toEqual(['Hi']);
  });

  it('says the window is closed two days after the customer last wrote', async () => {
    const { id } = await seedConversation({ lastCustomerMessageAt: ago(48 * HOUR) });
    const res = await js.owner.agent.get(`/api/conversations/${id}`);
    expect(res.body.windowOpen).toBe(false);
  });

  it('answers 404 for an id that does not exist and 400 for one that is not a UUID', async () => {
    expect((await js.owner.agent.get(`/api/conversations/${newId()}`)).status).toBe(404);
    const bad = await js.owner.agent.get('/api/conversations/nope');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/id: must be a UUID/);
  });
});

describe('POST /api/conversations/:id/reply', () => {
  it('sends a text inside the window through WhatsApp and answers with the wamid', async () => {
    const { id, contact } = await seedConversation();
    const res = await reply(js.owner, id, { messageType: 'text', text: 'Hello! How can I help?' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, messageId: expect.stringMatching(/^wamid\./), windowOpen: true });

    const sent = await js.sim.messages({ to: contact });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ wamid: res.body.messageId, phoneNumberId: js.line.phoneNumberId });
    expect(sent[0].body).toMatchObject({ type: 'text', text: { body: 'Hello! How can I help?' } });
    expect(await messageRows(id)).toEqual([
      expect.objectContaining({ direction: 'out', type: 'text', text: 'Hello! How can I help?', sent_by: js.owner.user.id, provider_message_id: res.body.messageId }),
    ]);
    const details = await js.owner.agent.get(`/api/conversations/${id}`);
    expect(details.body.lastMessage).toBe('Hello! How can I help?');
  });

  it('refuses free-form text outside the window with 400 pointing to templates, and sends nothing', async () => {
    const { id, contact } = await seedConversation({ lastCustomerMessageAt: ago(48 * HOUR) });
    const res = await reply(js.owner, id, { messageType: 'text', text: 'Still there?' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('The 24-hour window is closed: send an approved template instead');
    const image = await reply(js.owner, id, { messageType: 'image', mediaUrl: 'https://example.com/p.jpg' });
    expect(image.status).toBe(400);
    expect(await js.sim.messages({ to: contact })).toHaveLength(0);
    expect(await messageRows(id)).toHaveLength(0);
  });

  it('sends an approved template outside the window', async () => {
    const { id, contact } = await seedConversation({ lastCustomerMessageAt: ago(48 * HOUR) });
    const res = await reply(js.owner, id, { messageType: 'template', templateName: 'order_update', templateLanguage: 'en', templateParams: ['ORD-12345', 'Shipped'] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, messageId: expect.stringMatching(/^wamid\./), windowOpen: false });
    const [sent] = await js.sim.messages({ to: contact });
    expect(sent.body).toMatchObject({
      type: 'template',
      template: { name: 'order_update', language: { code: 'en' }, components: [{ type: 'body', parameters: [{ type: 'text', text: 'ORD-12345' }, { type: 'text', text: 'Shipped' }] }] },
    });
  });

  it('sends images with a caption and documents with a file name', async () => {
    const { id, contact } = await seedConversation();
    const image = await reply(js.owner, id, { messageType: 'image', mediaUrl: 'https://your-domain.com/uploads/photo.jpg', caption: 'Here is the information you requested' });
    expect(image.status).toBe(200);
    const doc = await reply(js.owner, id, { messageType: 'document', mediaUrl: 'https://your-domain.com/uploads/invoice.pdf', filename: 'invoice.pdf' });
    expect(doc.status).toBe(200);
    const sent = await js.sim.messages({ to: contact });
    expect(sent.map((m) => m.body)).toEqual([
      expect.objectContaining({ type: 'image', image: { link: 'https://your-domain.com/uploads/photo.jpg', caption: 'Here is the information you requested' } }),
      expect.objectContaining({ type: 'document', document: expect.objectContaining({ link: 'https://your-domain.com/uploads/invoice.pdf', filename: 'invoice.pdf' }) }),
    ]);
  });

  it('sends once when a request is repeated with the same Idempotency-Key, and answers the same', async () => {
    const { id, contact } = await seedConversation();
    const key = `retry-${newId()}`;
    const send = () => js.owner.agent.post(`/api/conversations/${id}/reply`).set('Idempotency-Key', key).send({ messageType: 'text', text: 'Only once' });
    const [first, second] = await Promise.all([send(), send()]);
    const third = await send();
    for (const res of [first, second, third]) expect(res.status).toBe(200);
    expect(second.body.messageId).toBe(first.body.messageId);
    expect(third.body.messageId).toBe(first.body.messageId);
    expect(first.body.idempotencyKey).toBe(key);
    expect(await js.sim.messages({ to: contact })).toHaveLength(1);
    expect(await messageRows(id)).toHaveLength(1);

    const fresh = await reply(js.owner, id, { messageType: 'text', text: 'Only once' });
    expect(fresh.body.messageId).not.toBe(first.body.messageId);
    expect(await js.sim.messages({ to: contact })).toHaveLength(2);
  });

  it('answers 202 queued when asked not to wait, and the message still goes out', async () => {
    const { id, contact } = await seedConversation();
    const res = await js.owner.agent.post(`/api/conversations/${id}/reply?waitSeconds=0`).send({ messageType: 'text', text: 'On its way' });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ success: true, messageId: null, queued: true, windowOpen: true, idempotencyKey: expect.any(String) });
    const [sent] = await eventually(async () => {
      const m = await js.sim.messages({ to: contact });
      return m.length ? m : undefined;
    }, 'the queued message to reach WhatsApp');
    // The same key then reports the outcome.
    const again = await js.owner.agent.post(`/api/conversations/${id}/reply`).set('Idempotency-Key', res.body.idempotencyKey).send({ messageType: 'text', text: 'On its way' });
    expect(again.status).toBe(200);
    expect(again.body.messageId).toBe(sent.wamid);
  });

  it('retries a transient WhatsApp error and still answers with the wamid', async () => {
    const { id, contact } = await seedConversation();
    await js.sim.configure({ failNext: [{ code: 131016, to: contact }] });
    const res = await reply(js.owner, id, { messageType: 'text', text: 'Second time lucky' });
    expect(res.status).toBe(200);
    const sent = await js.sim.messages({ to: contact });
    expect(sent).toHaveLength(1);
    expect(res.body.messageId).toBe(sent[0].wamid);
  });

  it('answers 502 naming the reason when WhatsApp refuses the message, and records the failure', async () => {
    const { id, contact } = await seedConversation();
    await js.sim.configure({ failNext: [{ code: 131026, to: contact, message: 'Message undeliverable' }] });
    const res = await reply(js.owner, id, { messageType: 'text', text: 'You will not get this' });
    expect(res.status).toBe(502);
    expect(res.body.error).toMatch(/could not be sent: .*undeliverable/i);
    expect(await messageRows(id)).toEqual([expect.objectContaining({ status: 'failed', provider_message_id: null })]);
  });

  it('answers 400 pointing to templates when WhatsApp itself says the window is closed', async () => {
    const { id, contact } = await seedConversation();
    await js.sim.configure({ failNext: [{ code: 131047, to: contact }] });
    const res = await reply(js.owner, id, { messageType: 'text', text: 'Too late' });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/template/);
  });

  it('answers 400 naming the field when the body is wrong', async () => {
    const { id } = await seedConversation();
    const cases: Array<[object, RegExp]> = [
      [{ messageType: 'fax', text: 'x' }, /messageType: must be one of text, image, video, document, audio, template/],
      [{ messageType: 'text' }, /text:/],
      [{ messageType: 'image', mediaUrl: 'not a url' }, /mediaUrl: must be an http\(s\) URL/],
      [{ messageType: 'audio', mediaUrl: 'https://example.com/a.ogg', caption: 'hi' }, /caption: audio takes no caption/],
      [{ messageType: 'template', templateLanguage: 'en' }, /templateName:/],
    ];
    for (const [body, error] of cases) {
      const res = await reply(js.owner, id, body);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatch(error);
    }
    const header = await js.owner.agent.post(`/api/conversations/${id}/reply`).set('Idempotency-Key', 'has spaces').send({ messageType: 'text', text: 'x' });
    expect(header.status).toBe(400);
    expect(header.body.error).toMatch(/Idempotency-Key/);
    expect(await messageRows(id)).toHaveLength(0);
  });
});

describe('PUT /api/conversations/:id: claim, release, close', () => {
  const qualifier = {
    nodes: [
      { id: 'start', type: 'trigger_outbound', data: {} },
      { id: 'age', type: 'question', data: { text: 'How old are you?', variable: 'age', validation: 'number', invalidText: 'Please answer with a number.' } },
      { id: 'thanks', type: 'send_text', data: { text: 'Thanks, {{age}} noted.' } },
      { id: 'done', type: 'end', data: {} },
    ],
    edges: [
      { source: 'start', target: 'age' },
      { source: 'age', target: 'thanks' },
      { source: 'thanks', target: 'done' },
    ],
  };

  async function publishedFlow(): Promise<string> {
    const created = await js.owner.agent.post('/api/flows').send({ name: 'Age', graph: qualifier });
    expect(created.status).toBe(201);
    expect((await js.owner.agent.post(`/api/flows/${created.body.id}/versions`)).status).toBe(201);
    expect((await js.owner.agent.put(`/api/flows/${created.body.id}`).send({ status: 'active' })).status).toBe(200);
    return created.body.id;
  }

  const textsTo = async (to: string) => (await js.sim.messages({ to })).map((m) => (m.body as { text?: { body: string }; type: string }).text?.body ?? `[${m.type}]`);
  const countTo = (to: string, n: number) => eventually(async () => ((await textsTo(to)).length >= n ? textsTo(to) : undefined), `${n} messages to ${to}`);
  const conversationOf = async (contact: string) =>
    (await sql<{ id: string }>(`select id from conversations where tenant_id = ? and contact = ?`, [js.owner.user.tenantId, contact]))[0].id;
  const journeyOf = async (id: string): Promise<JourneyState> => (await js.owner.agent.get(`/api/conversations/${id}`)).body.journey;

  /** A customer in the middle of a flow: the bot asked a question and waits for the answer. */
  async function customerMidFlow(): Promise<{ id: string; contact: string }> {
    const flowId = await publishedFlow();
    const contact = newPhone();
    const outbound = await js.stack.http().post('/api/webhook/outbound').set('Authorization', `Bearer ${token}`).send({ phone: contact, flowId, templateName: 'hello_utility' });
    expect(outbound.status).toBe(200);
    await countTo(contact, 1);
    await js.sim.inbound({ from: contact, phoneNumberId: js.line.phoneNumberId, text: 'hi', name: 'Noa' });
    expect(await countTo(contact, 2)).toEqual(['[template]', 'How old are you?']);
    return { id: await conversationOf(contact), contact };
  }

  it('a claim pauses the bot while the agent talks to the customer; a release resumes it', async () => {
    const { id, contact } = await customerMidFlow();
    const before = await js.owner.agent.get(`/api/conversations/${id}`);
    expect(before.body.journey).toMatchObject({ currentNode: 'age', status: 'waiting', waitingFor: 'reply', paused: false });

    const claimed = await js.owner.agent.put(`/api/conversations/${id}`).send({ action: 'claim' });
    expect(claimed.status).toBe(200);
    expect(claimed.body).toMatchObject({ id, status: 'agent', assignedUserId: js.owner.user.id });
    expect(await rowOf(id)).toEqual({ status: 'agent', assigned_user_id: js.owner.user.id });
    await eventually(async () => (await journeyOf(id))?.paused === true, 'the journey to pause');

    // The customer answers while the agent holds the conversation: the journey hears it, the bot stays silent.
    await js.sim.inbound({ from: contact, phoneNumberId: js.line.phoneNumberId, text: '30', name: 'Noa' });
    await eventually(async () => (await journeyOf(id))?.variables.lastMessage === '30', 'the journey to receive the answer');
    expect(await textsTo(contact)).toHaveLength(2);

    const agentReply = await reply(js.owner, id, { messageType: 'text', text: 'Hi Noa, an agent here.' });
    expect(agentReply.status).toBe(200);
    expect((await textsTo(contact)).at(-1)).toBe('Hi Noa, an agent here.');

    const released = await js.owner.agent.put(`/api/conversations/${id}`).send({ action: 'release' });
    expect(released.status).toBe(200);
    expect(released.body).toMatchObject({ status: 'bot', assignedUserId: null });
    expect(await rowOf(id)).toEqual({ status: 'bot', assigned_user_id: null });
    await eventually(async () => (await journeyOf(id))?.paused === false, 'the journey to resume');

    await js.sim.inbound({ from: contact, phoneNumberId: js.line.phoneNumberId, text: '31', name: 'Noa' });
    expect((await countTo(contact, 4)).at(-1)).toBe('Thanks, 31 noted.');
  });

  it('close ends the journey and closes the conversation', async () => {
    const { id } = await customerMidFlow();
    const closed = await js.owner.agent.put(`/api/conversations/${id}`).send({ action: 'close' });
    expect(closed.status).toBe(200);
    expect(await rowOf(id)).toEqual({ status: 'closed', assigned_user_id: null });
    const state = await eventually(async () => {
      const s = await journeyOf(id);
      return s?.status === 'idle' ? s : undefined;
    }, 'the flow to end');
    expect(state.history.at(-1)).toMatchObject({ outcome: 'completed', reason: `closed by agent ${js.owner.user.id}` });
  });

  it('accepts {status} as a synonym of the action, and signals the journey even when none ran', async () => {
    const { id } = await seedConversation();
    const res = await js.owner.agent.put(`/api/conversations/${id}`).send({ status: 'agent' });
    expect(res.status).toBe(200);
    expect(await rowOf(id)).toEqual({ status: 'agent', assigned_user_id: js.owner.user.id });
    // The claim started the contact's journey paused, so a customer message cannot wake the bot meanwhile.
    await eventually(async () => (await journeyOf(id))?.paused === true, 'a paused journey');
  });

  it("refuses an agent's claim of a colleague's conversation with 409; an owner may take it over", async () => {
    const { id } = await seedConversation();
    const agentA = await signedInAccount(js.stack, { role: 'user', tenantId: js.owner.user.tenantId });
    const agentB = await signedInAccount(js.stack, { role: 'user', tenantId: js.owner.user.tenantId });
    expect((await agentA.agent.put(`/api/conversations/${id}`).send({ action: 'claim' })).status).toBe(200);

    for (const action of ['claim', 'release', 'close']) {
      const res = await agentB.agent.put(`/api/conversations/${id}`).send({ action });
      expect(res.status).toBe(409);
      expect(res.body.error).toMatch(/Another agent holds this conversation/);
    }
    expect(await rowOf(id)).toEqual({ status: 'agent', assigned_user_id: agentA.user.id });
    expect((await agentA.agent.put(`/api/conversations/${id}`).send({ action: 'claim' })).status).toBe(200);

    const takeover = await js.owner.agent.put(`/api/conversations/${id}`).send({ action: 'claim' });
    expect(takeover.status).toBe(200);
    expect(await rowOf(id)).toEqual({ status: 'agent', assigned_user_id: js.owner.user.id });
  });

  it('answers 400 naming the field when the body is wrong', async () => {
    const { id } = await seedConversation();
    const bad = await js.owner.agent.put(`/api/conversations/${id}`).send({ action: 'steal' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/^Invalid body: action:/);
    const none = await js.owner.agent.put(`/api/conversations/${id}`).send({});
    expect(none.status).toBe(400);
    expect(none.body.error).toMatch(/action: give action/);
    expect(await rowOf(id)).toEqual({ status: 'bot', assigned_user_id: null });
  });
});

describe('when Temporal is unreachable', () => {
  let down: { agent: ReturnType<typeof request.agent>; connection: Connection };

  beforeAll(async () => {
    const connection = Connection.lazy({ address: `127.0.0.1:${await freePort()}` });
    const temporal = { client: new Client({ connection, namespace: 'default' }), connection, namespace: 'default', taskQueue: 'unreachable' };
    const { app } = buildApp({ ...js.stack.deps, temporal });
    const agent = request.agent(app.callback());
    const login = await agent.post('/api/auth/login').set('X-Forwarded-For', uniqueIp()).send({ username: js.owner.user.username, password: js.owner.password });
    expect(login.status).toBe(200);
    down = { agent, connection };
  });
  afterAll(async () => down?.connection.close());

  it('still shows the conversation, with journey null and a journeyError', async () => {
    const { id } = await seedConversation();
    const res = await down.agent.get(`/api/conversations/${id}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, journey: null, journeyError: expect.stringMatching(/Temporal/) });
  });

  it('answers a claim with 503 and leaves the conversation as it was', async () => {
    const { id } = await seedConversation();
    const res = await down.agent.put(`/api/conversations/${id}`).send({ action: 'claim' });
    expect(res.status).toBe(503);
    expect(res.body.error).toMatch(/unavailable; nothing was changed/);
    expect(await rowOf(id)).toEqual({ status: 'bot', assigned_user_id: null });
  });

  it('answers a reply with 503 and sends nothing', async () => {
    const { id, contact } = await seedConversation();
    const res = await down.agent.post(`/api/conversations/${id}/reply`).send({ messageType: 'text', text: 'Hello?' });
    expect(res.status).toBe(503);
    expect(res.body.error).toMatch(/unavailable/);
    expect(await js.sim.messages({ to: contact })).toHaveLength(0);
    expect(await messageRows(id)).toHaveLength(0);
  });
});

describe('tenant isolation', () => {
  it("answers 404 to another tenant's user on every conversation route and leaves the conversation alone", async () => {
    const { id, contact } = await seedConversation();
    const outsider = await signedInAccount(js.stack);
    await expectTenantIsolation({
      outsider,
      routes: [
        { method: 'get', path: `/api/conversations/${id}` },
        { method: 'put', path: `/api/conversations/${id}`, body: { action: 'claim' } },
        { method: 'put', path: `/api/conversations/${id}`, body: { action: 'close' } },
        { method: 'post', path: `/api/conversations/${id}/reply`, body: { messageType: 'text', text: 'Not yours' } },
      ],
      stillThere: async () => {
        const row = await rowOf(id);
        return row.status === 'bot' && row.assigned_user_id === null && (await messageRows(id)).length === 0 && (await js.sim.messages({ to: contact })).length === 0;
      },
    });
    const list = await outsider.agent.get('/api/conversations');
    expect(list.body).toEqual([]);
  });
});
