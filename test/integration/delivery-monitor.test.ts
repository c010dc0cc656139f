import { randomBytes, randomUUID } from 'node:crypto';
import { upsertConversation } from '../../core/conversations/store';
import { apiTokenFor, signedInAccount, type TestAccount } from '../support/accounts';
import { eventually, openJourneyStack, type JourneyStack } from '../support/journey-stack';

/**
 * GET,POST /api/monitor/delivery against the real stack: messages sent through the WhatsApp simulator (which
 * refuses or fails them on request), stale and failed ones listed with their codes, and manual retries run
 * by the delivery workflow through the idempotent send path.
 */

let js: JourneyStack;
let token: string;
let outsider: TestAccount;
let member: TestAccount;
let admin: TestAccount;

const digits = (n: number) => Array.from(randomBytes(n), (b) => String(b % 10)).join('').replace(/^0/, '1');
let phoneSeq = 0;
const newPhone = () => `97256${String(Date.now() % 1_000_000).padStart(6, '0')}${phoneSeq++}`;
const conn = () => js.stack.orm.em.getConnection();
const api = () => js.owner.agent;

beforeAll(async () => {
  js = await openJourneyStack();
  token = await apiTokenFor(js.stack, js.owner.user);
  outsider = await signedInAccount(js.stack);
  member = await signedInAccount(js.stack, { role: 'user', tenantId: js.owner.user.tenantId });
  admin = await signedInAccount(js.stack, { role: 'admin' });
}, 90_000);
afterAll(async () => js?.close());
afterEach(async () => {
  await js.sim.configure({ recipients: {}, failNext: [] });
});

/** A line of its own, so a test's counts are its own. */
async function newLine(): Promise<{ id: string; phoneNumberId: string }> {
  const res = await api().post('/api/settings/whatsapp').send({ phoneNumberId: digits(12), wabaId: '2000001', accessToken: js.sim.accessToken });
  expect(res.status).toBe(201);
  return { id: res.body.id, phoneNumberId: res.body.phoneNumberId };
}

/** A conversation whose customer wrote a minute ago (the 24-hour window is open). */
async function conversationWith(contact: string, lineId: string): Promise<string> {
  const c = await upsertConversation(js.stack.orm.em.fork(), { tenantId: js.owner.user.tenantId, channel: 'whatsapp', lineId, contact });
  await conn().execute(`update conversations set last_customer_message_at = now() - interval '1 minute' where id = ?`, [c.id]);
  return c.id;
}

/** An agent's reply; the message row's id, whatever WhatsApp answered. */
async function reply(conversationId: string, body: Record<string, unknown>): Promise<{ id: string; status: number }> {
  const res = await api().post(`/api/conversations/${conversationId}/reply`).send(body);
  const [row] = await conn().execute<Array<{ id: string }>>(`select id from messages where conversation_id = ? and direction = 'out' order by created_at desc limit 1`, [
    conversationId,
  ]);
  return { id: row.id, status: res.status };
}

const text = (t: string) => ({ messageType: 'text', text: t });

const messageRow = async (id: string) =>
  (await conn().execute<Array<{ status: string; error_code: number | null; delivery_round: number; provider_message_id: string | null }>>(
    `select status, error_code, delivery_round, provider_message_id from messages where id = ?`,
    [id],
  ))[0];

const becomes = (id: string, statuses: string[]) =>
  eventually(async () => {
    const m = await messageRow(id);
    return statuses.includes(m.status) ? m : undefined;
  }, `message ${id} to become ${statuses.join(' or ')}`);

const textsSentTo = async (contact: string) => (await js.sim.messages({ to: contact })).map((m) => (m.body.text as { body: string }).body);

const monitor = (query: Record<string, string | number>) => api().get('/api/monitor/delivery').query(query);
const retry = (body: Record<string, unknown>) => api().post('/api/monitor/delivery').send(body);

describe('GET /api/monitor/delivery', () => {
  it('counts a window’s messages by status and lists the failed ones with WhatsApp’s codes, page by page', async () => {
    const line = await newLine();
    const [fine, refused, late] = [newPhone(), newPhone(), newPhone()];
    await js.sim.configure({ failNext: [{ to: refused, code: 131026 }], recipients: { [late]: { autoStatuses: ['sent'], failWith: 131049 } } });
    const delivered = await reply(await conversationWith(fine, line.id), text('fine'));
    const atOnce = await reply(await conversationWith(refused, line.id), text('refused'));
    expect(atOnce.status).toBe(502);
    const later = await reply(await conversationWith(late, line.id), text('late'));
    await becomes(delivered.id, ['read']);
    await becomes(later.id, ['failed']);

    const res = await monitor({ lineId: line.id });
    expect(res.status).toBe(200);
    expect(res.body.summary).toMatchObject({ total: 3, read: 1, failed: 2, stale: 0 });
    expect(res.body.summary.failuresByCode).toEqual(
      expect.arrayContaining([expect.objectContaining({ errorCode: 131026, count: 1 }), expect.objectContaining({ errorCode: 131049, count: 1 })]),
    );
    // By default the problems: the two failed, newest first.
    expect(res.body.messages.map((m: { messageId: string }) => m.messageId)).toEqual([later.id, atOnce.id]);
    expect(res.body.messages[1]).toMatchObject({ status: 'failed', errorCode: 131026, errorTitle: expect.stringContaining('undeliverable'), phone: `+${refused}` });
    expect(res.body.messages[0]).toMatchObject({ status: 'failed', errorCode: 131049, retry: { allowed: true } });

    const page = await monitor({ lineId: line.id, status: 'failed', limit: 1, offset: 1 });
    expect(page.body).toMatchObject({ total: 2, limit: 1, offset: 1 });
    expect(page.body.messages.map((m: { messageId: string }) => m.messageId)).toEqual([atOnce.id]);
    expect((await monitor({ lineId: line.id, status: 'all', errorCode: 131026 })).body.messages).toHaveLength(1);
    expect((await monitor({ lineId: line.id, since: new Date(Date.now() + 60_000).toISOString() })).body.summary.total).toBe(0);
    expect((await monitor({ lineId: (await newLine()).id })).body.summary.total).toBe(0);
  });

  it('answers to owners (session or API token) and administrators, not to plain users; another tenant’s message is absent', async () => {
    const line = await newLine();
    const contact = newPhone();
    await js.sim.configure({ failNext: [{ to: contact, code: 131026 }] });
    const failed = await reply(await conversationWith(contact, line.id), text('private'));

    expect((await member.agent.get('/api/monitor/delivery')).status).toBe(403);
    expect((await member.agent.post('/api/monitor/delivery').send({ messageId: failed.id })).status).toBe(403);
    const bearer = await js.stack.http().get('/api/monitor/delivery').query({ lineId: line.id }).set('Authorization', `Bearer ${token}`);
    expect(bearer.status).toBe(200);
    expect(bearer.body.summary.total).toBe(1);

    const lookedUp = await outsider.agent.get('/api/monitor/delivery').query({ messageId: failed.id });
    expect(lookedUp.status).toBe(404);
    expect(lookedUp.body.error).toEqual(expect.any(String));
    const retried = await outsider.agent.post('/api/monitor/delivery').send({ messageId: failed.id });
    expect(retried.status).toBe(404);
    expect((await outsider.agent.get('/api/monitor/delivery').query({ lineId: line.id })).body.summary.total).toBe(0);
    expect((await outsider.agent.get('/api/monitor/delivery').query({ tenantId: js.owner.user.tenantId })).status).toBe(403);
    expect(await messageRow(failed.id)).toMatchObject({ status: 'failed', delivery_round: 0 });

    const asAdmin = await admin.agent.get('/api/monitor/delivery').query({ messageId: failed.id });
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.body.message).toMatchObject({ messageId: failed.id, tenantId: js.owner.user.tenantId });
    expect((await admin.agent.get('/api/monitor/delivery').query({ tenantId: js.owner.user.tenantId, lineId: line.id })).body.summary.total).toBe(1);
  });

  it('refuses bad input with 400 {error}', async () => {
    const queries: Array<Record<string, string>> = [{ messageId: 'nope' }, { staleAfterMinutes: '0' }, { since: 'yesterday' }, { status: 'lost' }, { limit: '0' }];
    for (const query of queries) {
      const res = await monitor(query);
      expect(res.status).toBe(400);
      expect(res.body.error).toEqual(expect.any(String));
    }
    for (const body of [{}, { messageId: randomUUID(), filter: { status: 'failed' } }, { filter: { status: 'delivered' } }, { filter: {}, limit: 501 }]) {
      const res = await retry(body);
      expect(res.status).toBe(400);
      expect(res.body.error).toEqual(expect.any(String));
    }
    expect((await retry({ messageId: randomUUID() })).status).toBe(404);
  });
});

describe('stale detection and manual retry', () => {
  it('lists a message WhatsApp accepted and never reported on as stale, and never sends it again', async () => {
    const line = await newLine();
    const contact = newPhone();
    await js.sim.configure({ recipients: { [contact]: { autoStatuses: ['sent'] } } });
    const sent = await reply(await conversationWith(contact, line.id), text('anyone there?'));
    await becomes(sent.id, ['sent']);

    expect((await monitor({ lineId: line.id, status: 'stale', staleAfterMinutes: 60 })).body.messages).toEqual([]);
    const stale = await eventually(async () => {
      const res = await monitor({ lineId: line.id, status: 'stale', staleAfterMinutes: 0.01 });
      // The count and the list are two queries: the message may cross the threshold between them.
      return res.body.messages.length && res.body.summary.stale ? res.body : undefined;
    }, 'the message to go stale');
    expect(stale.summary.stale).toBe(1);
    expect(stale.messages[0]).toMatchObject({ messageId: sent.id, status: 'sent', stale: 'no_status', retry: { allowed: false, reason: 'already_accepted' } });

    const res = await retry({ messageId: sent.id, staleAfterMinutes: 0.01 });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ queued: 0, refused: [{ messageId: sent.id, reason: 'already_accepted' }] });
    await js.sim.settled();
    expect(await textsSentTo(contact)).toEqual(['anyone there?']);
  });

  it('retries a send left in doubt once it is stale: sent once, even when the retry is asked for twice at once', async () => {
    const line = await newLine();
    const contact = newPhone();
    const conversationId = await conversationWith(contact, line.id);
    // What a worker killed during the provider call leaves: the row, one attempt, no answer, an hour ago.
    const id = randomUUID();
    await conn().execute(
      `insert into messages (id, tenant_id, conversation_id, direction, type, text, payload, status, idempotency_key, sent_by, attempts, created_at, updated_at)
       values (?, ?, ?, 'out', 'text', 'hello again', ?, 'queued', ?, 'agent', 1, now() - interval '1 hour', now() - interval '1 hour')`,
      [id, js.owner.user.tenantId, conversationId, JSON.stringify({ type: 'text', body: 'hello again' }), `reply/${conversationId}/${randomUUID()}`],
    );
    const listed = await monitor({ lineId: line.id, status: 'stale', staleAfterMinutes: 30 });
    expect(listed.body.messages).toMatchObject([{ messageId: id, status: 'queued', stale: 'in_doubt', retry: { allowed: true } }]);

    const both = await Promise.all([retry({ messageId: id, staleAfterMinutes: 30 }), retry({ messageId: id, staleAfterMinutes: 30 })]);
    for (const res of both) expect(res.status).toBe(202);
    const workflows = new Set(both.flatMap((r) => r.body.messages.map((m: { workflowId: string }) => m.workflowId)));
    expect(workflows).toEqual(new Set([`delivery/${id}/1`]));
    for (const res of both) expect(res.body.refused.every((r: { reason: string }) => r.reason === 'in_progress')).toBe(true);

    await becomes(id, ['delivered', 'read']);
    await js.sim.settled();
    expect(await textsSentTo(contact)).toEqual(['hello again']);
    const again = await retry({ messageId: id });
    expect(again.body).toMatchObject({ queued: 0, refused: [{ reason: 'already_accepted' }] });

    const audit = (await monitor({ messageId: id })).body;
    expect(audit.message).toMatchObject({ round: 1, stale: null });
    expect(audit.attempts).toMatchObject([
      { attemptNo: 1, round: 0, outcome: 'pending', tries: 1 },
      { attemptNo: 2, round: 1, outcome: 'sent', providerMessageId: expect.stringMatching(/^wamid\./) },
    ]);
    expect(audit.retries).toMatchObject([{ round: 1, requestedBy: js.owner.user.username, outcome: 'sent' }]);
    expect(audit.trail.map((e: { event: string }) => e.event)).toEqual(expect.arrayContaining(['queued', 'attempt', 'retry_requested', 'sent', 'delivered']));
  });

  it('retries a message WhatsApp refused: the refusal stays in the trail, the retry is delivered once', async () => {
    const line = await newLine();
    const contact = newPhone();
    await js.sim.configure({ failNext: [{ to: contact, code: 131026 }] });
    const failed = await reply(await conversationWith(contact, line.id), text('second chance'));
    expect(failed.status).toBe(502);
    expect(await messageRow(failed.id)).toMatchObject({ status: 'failed', error_code: 131026 });

    const res = await retry({ messageId: failed.id });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ queued: 1, messages: [{ messageId: failed.id, round: 1, alreadyQueued: false }], refused: [] });
    const done = await becomes(failed.id, ['delivered', 'read']);
    expect(done).toMatchObject({ delivery_round: 1, error_code: null });
    await js.sim.settled();
    expect(await textsSentTo(contact)).toEqual(['second chance']);
    expect((await monitor({ messageId: failed.id })).body.attempts).toMatchObject([
      { round: 0, outcome: 'failed', errorCode: 131026 },
      { round: 1, outcome: 'sent', providerMessageId: done.provider_message_id },
    ]);
  });

  it('retries the failed messages of a filter, refusing those it cannot send and saying why', async () => {
    const line = await newLine();
    const [open, closed, template] = [newPhone(), newPhone(), newPhone()];
    await js.sim.configure({ failNext: [open, closed, template].map((to) => ({ to, code: 131026 })) });
    const a = await reply(await conversationWith(open, line.id), text('window open'));
    const closedConversation = await conversationWith(closed, line.id);
    const b = await reply(closedConversation, text('window closed'));
    const c = await reply(await conversationWith(template, line.id), { messageType: 'template', templateName: 'hello_world', templateLanguage: 'en' });
    for (const m of [a, b, c]) expect(await messageRow(m.id)).toMatchObject({ status: 'failed' });
    await conn().execute(`update conversations set last_customer_message_at = now() - interval '2 days' where id = ?`, [closedConversation]);

    const res = await retry({ filter: { status: 'failed', lineId: line.id } });
    expect(res.status).toBe(202);
    expect(res.body.queued).toBe(2);
    expect(res.body.messages.map((m: { messageId: string }) => m.messageId).sort()).toEqual([a.id, c.id].sort());
    expect(res.body.refused).toMatchObject([{ messageId: b.id, reason: 'window_closed', message: expect.stringContaining('template') }]);
    await becomes(a.id, ['delivered', 'read']);
    await becomes(c.id, ['delivered', 'read']);
    expect(await messageRow(b.id)).toMatchObject({ status: 'failed', delivery_round: 0 });
    await js.sim.settled();
    expect(await js.sim.messages({ to: open })).toHaveLength(1);
    expect(await js.sim.messages({ to: template })).toHaveLength(1);
    expect(await js.sim.messages({ to: closed })).toHaveLength(0);
  });
});
