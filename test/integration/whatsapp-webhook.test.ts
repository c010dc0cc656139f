import { createHmac, randomBytes, randomInt } from 'node:crypto';
import { inboxStats, storeInboxEvents } from '../../core/inbox/webhook-inbox';
import { dispatchInboxOnce, InboxHandlerRegistry, runInboxDispatcher, type InboxHandler } from '../../workers/inbox-dispatcher';
import type { InboxRow } from '../../core/inbox/webhook-inbox';
import { signedInAccount, type TestAccount } from '../support/accounts';
import { openTestStack, type TestStack } from '../support/stack';

const APP_SECRET = 'test-app-secret';

let stack: TestStack;
beforeAll(async () => {
  stack = await openTestStack({ META_APP_SECRET: APP_SECRET, WHATSAPP_VERIFY_TOKEN: 'installation-verify-token' });
});
afterAll(async () => stack.close());

const digits = (n: number) => Array.from({ length: n }, () => randomInt(0, 10)).join('');
const wamid = () => `wamid.${randomBytes(16).toString('base64url')}`;

interface Line {
  id: string;
  tenantId: string;
  phoneNumberId: string;
  wabaId: string;
  verifyToken: string;
}

async function connectLine(account?: TestAccount): Promise<Line> {
  const owner = account ?? (await signedInAccount(stack));
  const res = await owner.agent
    .post('/api/settings/whatsapp')
    .send({ phoneNumberId: `1${digits(14)}`, wabaId: `2${digits(14)}`, displayPhoneNumber: '+1 555 0100', accessToken: `EAAG${randomBytes(20).toString('hex')}` });
  if (res.status !== 201) throw new Error(`line creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Meta's envelope around one `messages` change of a line. */
function messagesChange(line: Pick<Line, 'phoneNumberId' | 'wabaId'>, value: Record<string, unknown>) {
  const metadata = { display_phone_number: '15550100', phone_number_id: line.phoneNumberId };
  return { object: 'whatsapp_business_account', entry: [{ id: line.wabaId, changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata, ...value } }] }] };
}

/** What Meta posts for one inbound text message. */
const messageWebhook = (line: Pick<Line, 'phoneNumberId' | 'wabaId'>, id: string, text = 'hello') =>
  messagesChange(line, {
    contacts: [{ profile: { name: 'Dana' }, wa_id: '972501234567' }],
    messages: [{ from: '972501234567', id, timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: text } }],
  });

const statusWebhook = (line: Pick<Line, 'phoneNumberId' | 'wabaId'>, id: string, statuses: string[]) =>
  messagesChange(line, { statuses: statuses.map((status, i) => ({ id, status, timestamp: String(1_700_000_000 + i), recipient_id: '972501234567' })) });

/** The test plays Meta: it signs the exact bytes it sends. */
const sign = (raw: string, secret = APP_SECRET) => `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`;

function deliver(body: unknown, opts: { signature?: string | null; raw?: string } = {}) {
  const raw = opts.raw ?? JSON.stringify(body);
  const req = stack.http().post('/api/webhook/whatsapp').set('Content-Type', 'application/json');
  const signature = opts.signature === undefined ? sign(raw) : opts.signature;
  if (signature !== null) req.set('X-Hub-Signature-256', signature);
  return req.send(raw);
}

interface InboxDbRow {
  id: string;
  provider: string;
  dedupe_key: string;
  kind: string;
  phone_number_id: string | null;
  tenant_id: string | null;
  payload: Record<string, unknown>;
  processed_at: string | null;
  attempts: number;
  last_error: string | null;
  /** Milliseconds from now until the next attempt. */
  due_in_ms: number;
}

async function inboxRows(where: string, params: unknown[]): Promise<InboxDbRow[]> {
  return stack.orm.em
    .getConnection()
    .execute(`select *, (extract(epoch from next_attempt_at - now()) * 1000)::float8 as due_in_ms from webhook_inbox where ${where} order by id`, params);
}
const rowsByKey = (dedupeKey: string) => inboxRows('dedupe_key = ?', [dedupeKey]);

const dispatcher = (handlers: InboxHandlerRegistry, extra: Record<string, unknown> = {}) => ({ orm: stack.orm, logger: stack.deps.logger, handlers, ...extra });

describe('WhatsApp webhook verification handshake', () => {
  it("answers the challenge as text when the verify token is a line's", async () => {
    const line = await connectLine();
    const res = await stack
      .http()
      .get('/api/webhook/whatsapp')
      .query({ 'hub.mode': 'subscribe', 'hub.verify_token': line.verifyToken, 'hub.challenge': '1158201444' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toBe('1158201444');
  });

  it('accepts the installation-wide WHATSAPP_VERIFY_TOKEN', async () => {
    const res = await stack.http().get('/api/webhook/whatsapp').query({ 'hub.mode': 'subscribe', 'hub.verify_token': 'installation-verify-token', 'hub.challenge': 'abc' });
    expect(res.status).toBe(200);
    expect(res.text).toBe('abc');
  });

  it('answers 403 to a wrong token or mode', async () => {
    const line = await connectLine();
    for (const query of [
      { 'hub.mode': 'subscribe', 'hub.verify_token': 'not-the-token', 'hub.challenge': '1' },
      { 'hub.mode': 'unsubscribe', 'hub.verify_token': line.verifyToken, 'hub.challenge': '1' },
      { 'hub.mode': 'subscribe', 'hub.challenge': '1' },
    ]) {
      const res = await stack.http().get('/api/webhook/whatsapp').query(query);
      expect(res.status).toBe(403);
      expect(typeof res.body.error).toBe('string');
      expect(res.text).not.toBe('1');
    }
  });
});

describe('WhatsApp webhook ingest', () => {
  it('stores a signed message once even when Meta delivers it three times, and answers 200 each time', async () => {
    const line = await connectLine();
    const id = wamid();
    const body = messageWebhook(line, id, 'I would like a table for two');
    for (let i = 0; i < 3; i++) {
      const res = await deliver(body);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ success: true });
    }
    const rows = await rowsByKey(id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ provider: 'whatsapp', kind: 'message', phone_number_id: line.phoneNumberId, tenant_id: line.tenantId, processed_at: null, attempts: 0 });
    expect(rows[0].payload).toMatchObject({ messageId: id, content: { type: 'text', text: 'I would like a table for two' }, contact: { waId: '972501234567', name: 'Dana' } });
  });

  it('stores webhooks arriving together (redeliveries among them) once each, every one answered 200', async () => {
    const line = await connectLine();
    const ids = Array.from({ length: 12 }, () => wamid());
    // Each message is delivered three times, all 36 requests in flight at once: they share inbox statements.
    const answers = await Promise.all([0, 1, 2].flatMap(() => ids.map((id, i) => deliver(messageWebhook(line, id, `message ${i}`)))));
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    const rows = await inboxRows('phone_number_id = ?', [line.phoneNumberId]);
    expect(rows.map((r) => (r.payload as { messageId: string }).messageId).sort()).toEqual([...ids].sort());
  });

  it('checks the signature over the raw bytes as sent, not over re-serialized JSON', async () => {
    const line = await connectLine();
    const id = wamid();
    const raw = JSON.stringify(messageWebhook(line, id, 'caf\u00e9'), null, 2).replace('café', 'caf\\u00e9');
    const res = await deliver(undefined, { raw });
    expect(res.status).toBe(200);
    expect((await rowsByKey(id))[0].payload).toMatchObject({ content: { text: 'café' } });
  });

  it('answers 401 and stores nothing when the signature is missing or wrong', async () => {
    const line = await connectLine();
    const id = wamid();
    const body = messageWebhook(line, id);
    const raw = JSON.stringify(body);
    const attempts = [
      { signature: null },
      { signature: 'sha256=' },
      { signature: sign(raw, 'another-app-secret') },
      { signature: sign(raw).replace('sha256=', 'sha1=') },
      { signature: sign(raw), raw: raw.replace('hello', 'hellO') },
    ];
    for (const attempt of attempts) {
      const res = await deliver(body, attempt);
      expect(res.status).toBe(401);
      expect(typeof res.body.error).toBe('string');
    }
    expect(await rowsByKey(id)).toHaveLength(0);
  });

  it('stores and acknowledges events for a phone number id no line has, with no tenant', async () => {
    const stranger = { phoneNumberId: `9${digits(14)}`, wabaId: `8${digits(14)}` };
    const id = wamid();
    const res = await deliver(messageWebhook(stranger, id));
    expect(res.status).toBe(200);
    expect(await rowsByKey(id)).toMatchObject([{ kind: 'message', phone_number_id: stranger.phoneNumberId, tenant_id: null, processed_at: null }]);
  });

  it('stores each delivery status as its own event', async () => {
    const line = await connectLine();
    const id = wamid();
    expect((await deliver(statusWebhook(line, id, ['sent', 'delivered']))).status).toBe(200);
    expect((await deliver(statusWebhook(line, id, ['delivered', 'read']))).status).toBe(200);
    const rows = await inboxRows('dedupe_key like ?', [`${id}:%`]);
    expect(rows.map((r) => [r.dedupe_key, r.kind, r.tenant_id])).toEqual([
      [`${id}:sent`, 'status', line.tenantId],
      [`${id}:delivered`, 'status', line.tenantId],
      [`${id}:read`, 'status', line.tenantId],
    ]);
  });

  it("stores and acknowledges events it does not act on as 'other', with the tenant of their WABA", async () => {
    const line = await connectLine();
    const update = {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: line.wabaId,
          time: 1_700_000_000,
          changes: [{ field: 'message_template_status_update', value: { event: 'APPROVED', message_template_id: Number(digits(12)), message_template_name: 'order_ready', message_template_language: 'en_US' } }],
        },
      ],
    };
    expect((await deliver(update)).status).toBe(200);
    expect((await deliver(update)).status).toBe(200);
    const rows = await inboxRows(`payload->>'wabaId' = ? and kind = 'other'`, [line.wabaId]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ tenant_id: line.tenantId, phone_number_id: null, processed_at: null });
    expect(rows[0].payload).toMatchObject({ field: 'message_template_status_update' });

    const foreign = { object: 'page', entry: [{ id: digits(10), messaging: [{ message: { mid: wamid(), text: 'hi' } }] }] };
    expect((await deliver(foreign)).status).toBe(200);
    expect(await inboxRows(`payload->>'object' = 'page' and payload->'entry'->0->>'id' = ?`, [foreign.entry[0].id])).toMatchObject([{ kind: 'other', tenant_id: null }]);
  });

  it('refuses every POST while META_APP_SECRET is not configured', async () => {
    const unconfigured = await openTestStack();
    try {
      const raw = JSON.stringify(messageWebhook({ phoneNumberId: '1', wabaId: '2' }, wamid()));
      const res = await unconfigured.http().post('/api/webhook/whatsapp').set('Content-Type', 'application/json').set('X-Hub-Signature-256', sign(raw)).send(raw);
      expect(res.status).toBe(503);
      expect(res.body.error).toMatch(/META_APP_SECRET/);
    } finally {
      await unconfigured.close();
    }
  });
});

describe('WhatsApp webhook ingest under load', () => {
  const status = (res: { status: number }) => res.status;

  it('stores webhooks arriving together in a few shared statements, each event with its line\'s tenant, with no look-up per webhook', async () => {
    const line = await connectLine();
    const ids = Array.from({ length: 40 }, () => wamid());
    const conn = stack.orm.em.getConnection();
    const spy = jest.spyOn(conn, 'execute');
    let answers;
    let statements: number;
    try {
      answers = await Promise.all(ids.map((id, i) => deliver(i % 2 ? messageWebhook(line, id) : statusWebhook(line, id, ['delivered']))));
    } finally {
      statements = spy.mock.calls.length;
      spy.mockRestore();
    }
    expect(answers.map(status)).toEqual(ids.map(() => 200));
    // One statement per batch of webhooks (plus, at most, a batch of request logs): not one or more per webhook.
    expect(statements).toBeGreaterThan(0);
    expect(statements).toBeLessThanOrEqual(10);
    const rows = await inboxRows(`dedupe_key = any(string_to_array(?, ','))`, [[...ids, ...ids.map((id) => `${id}:delivered`)].join(',')]);
    expect(rows).toHaveLength(40);
    expect(new Set(rows.map((r) => r.tenant_id))).toEqual(new Set([line.tenantId]));
  });

  it('answers 200 only for webhooks whose events were stored when a shared statement fails', async () => {
    const line = await connectLine();
    const poison = `wamid.poison-${randomBytes(8).toString('hex')}`;
    const conn = stack.orm.em.getConnection();
    const refuse = async (when: string) => {
      await conn.execute(`create or replace function test_refuse_inbox() returns trigger language plpgsql as $$
        begin raise exception 'injected inbox failure'; end $$`);
      await conn.execute(`create trigger test_refuse_inbox before insert on webhook_inbox for each row when (${when}) execute function test_refuse_inbox()`);
    };
    const allow = () => conn.execute(`drop trigger if exists test_refuse_inbox on webhook_inbox`);
    try {
      // One webhook of a burst cannot be stored: the batch it shares fails, the others are stored on their own.
      await refuse(`new.dedupe_key = '${poison}'`);
      const ids = Array.from({ length: 20 }, (_, i) => (i === 7 ? poison : wamid()));
      const answers = await Promise.all(ids.map((id) => deliver(messageWebhook(line, id))));
      const stored = new Set((await inboxRows('phone_number_id = ?', [line.phoneNumberId])).map((r) => r.dedupe_key));
      expect(ids.filter((id, i) => answers[i].status === 200 && !stored.has(id))).toEqual([]);
      expect(answers[7].status).not.toBe(200);
      expect(answers[7].body).toEqual({ error: expect.any(String) });
      expect(stored.has(poison)).toBe(false);
      expect(ids.filter((id) => id !== poison && !stored.has(id))).toEqual([]);

      // Nothing of the line can be stored: no webhook of the burst is answered 200.
      await allow();
      await refuse(`new.phone_number_id = '${line.phoneNumberId}'`);
      const refused = Array.from({ length: 10 }, () => wamid());
      const refusedAnswers = await Promise.all(refused.map((id) => deliver(messageWebhook(line, id))));
      expect(refusedAnswers.filter((a) => a.status === 200)).toEqual([]);
      expect(await inboxRows(`dedupe_key = any(string_to_array(?, ','))`, [refused.join(',')])).toEqual([]);
    } finally {
      await allow();
      await conn.execute(`drop function if exists test_refuse_inbox()`);
    }
    // Meta delivers again what was not answered 200; now it is stored.
    expect(status(await deliver(messageWebhook(line, poison)))).toBe(200);
    expect(await rowsByKey(poison)).toHaveLength(1);
  });

  it('finds the tenant of a line connected a moment before its first webhook', async () => {
    const owner = await signedInAccount(stack);
    const stranger = { phoneNumberId: `1${digits(14)}`, wabaId: `2${digits(14)}` };
    const early = wamid();
    expect(status(await deliver(messageWebhook(stranger, early)))).toBe(200);
    const res = await owner.agent
      .post('/api/settings/whatsapp')
      .send({ ...stranger, displayPhoneNumber: '+1 555 0102', accessToken: `EAAG${randomBytes(20).toString('hex')}` });
    expect(res.status).toBe(201);
    const late = wamid();
    expect(status(await deliver(messageWebhook(stranger, late)))).toBe(200);
    expect((await rowsByKey(early))[0].tenant_id).toBeNull();
    expect((await rowsByKey(late))[0].tenant_id).toBe(owner.user.tenantId);
  });
});

describe('inbox dispatcher', () => {
  it('hands rows to the handler registered for their kind and marks them processed', async () => {
    const line = await connectLine();
    const id = wamid();
    await deliver(messageWebhook(line, id, 'book me in'));
    const statusId = wamid();
    await deliver(statusWebhook(line, statusId, ['delivered']));

    const seen: InboxRow[] = [];
    const handlers = new InboxHandlerRegistry();
    handlers.register('message', async (row) => {
      seen.push(row);
    });
    while ((await dispatchInboxOnce(dispatcher(handlers))).claimed > 0);

    const mine = seen.filter((r) => r.dedupeKey === id);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ kind: 'message', provider: 'whatsapp', tenantId: line.tenantId, phoneNumberId: line.phoneNumberId, attempts: 1 });
    expect(mine[0].payload).toMatchObject({ content: { text: 'book me in' } });
    expect(Math.abs(mine[0].receivedAt.getTime() - Date.now())).toBeLessThan(60_000);
    expect((await rowsByKey(id))[0]).toMatchObject({ attempts: 1, last_error: null });
    expect((await rowsByKey(id))[0].processed_at).not.toBeNull();
    // No status handler registered yet: status rows wait, unclaimed.
    expect((await rowsByKey(`${statusId}:delivered`))[0]).toMatchObject({ processed_at: null, attempts: 0 });
  });

  it("marks 'other' events and events of unknown lines processed without a registered handler", async () => {
    const stranger = { phoneNumberId: `9${digits(14)}`, wabaId: `8${digits(14)}` };
    const id = wamid();
    await deliver(messageWebhook(stranger, id));
    const line = await connectLine();
    const update = { object: 'whatsapp_business_account', entry: [{ id: line.wabaId, changes: [{ field: 'account_update', value: { event: 'VERIFIED_ACCOUNT', nonce: digits(8) } }] }] };
    await deliver(update);

    const called: InboxRow[] = [];
    const handlers = new InboxHandlerRegistry();
    handlers.register('message', async (row) => {
      called.push(row);
    });
    while ((await dispatchInboxOnce(dispatcher(handlers))).claimed > 0);

    expect(called.filter((r) => r.dedupeKey === id)).toEqual([]);
    expect((await rowsByKey(id))[0].processed_at).not.toBeNull();
    const other = await inboxRows(`payload->>'wabaId' = ? and kind = 'other'`, [line.wabaId]);
    expect(other).toHaveLength(1);
    expect(other[0].processed_at).not.toBeNull();
  });

  it('hands an event that names only a WABA shared by several tenants to its handler, with no tenant, rather than dropping it', async () => {
    const first = await connectLine();
    const other = await signedInAccount(stack);
    const shared = await other.agent
      .post('/api/settings/whatsapp')
      .send({ phoneNumberId: `1${digits(14)}`, wabaId: first.wabaId, displayPhoneNumber: '+1 555 0101', accessToken: `EAAG${randomBytes(20).toString('hex')}` });
    expect(shared.status).toBe(201);
    const templateId = digits(15);
    const review = {
      object: 'whatsapp_business_account',
      entry: [{ id: first.wabaId, changes: [{ field: 'message_template_status_update', value: { event: 'APPROVED', message_template_id: templateId, message_template_name: 'shared_waba', message_template_language: 'en' } }] }],
    };
    expect((await deliver(review)).status).toBe(200);

    const handled: InboxRow[] = [];
    const handlers = new InboxHandlerRegistry();
    handlers.register('other', async (row) => {
      handled.push(row);
    });
    while ((await dispatchInboxOnce(dispatcher(handlers))).claimed > 0);
    const mine = handled.filter((r) => JSON.stringify(r.payload).includes(templateId));
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ kind: 'other', tenantId: null, phoneNumberId: null });
  });

  it('retries a failing handler with backoff, recording attempts and the error, and never loses the row', async () => {
    const line = await connectLine();
    const id = wamid();
    await deliver(statusWebhook(line, id, ['read']));
    const key = `${id}:read`;
    let calls = 0;
    const handlers = new InboxHandlerRegistry();
    handlers.register('status', async (row) => {
      if (row.dedupeKey !== key) return;
      calls++;
      if (calls < 3) throw new Error(`Temporal unavailable (${calls})`);
    });
    const options = dispatcher(handlers, { baseBackoffMs: 60_000 });
    const drain = async () => {
      while ((await dispatchInboxOnce(options)).claimed > 0);
    };
    const dueNow = () => stack.orm.em.getConnection().execute(`update webhook_inbox set next_attempt_at = now() where dedupe_key = ?`, [key]);

    await drain();
    let [row] = await rowsByKey(key);
    expect(row).toMatchObject({ processed_at: null, attempts: 1, last_error: 'Error: Temporal unavailable (1)' });
    expect(row.due_in_ms).toBeGreaterThan(40_000);

    await drain();
    expect(calls).toBe(1);

    await dueNow();
    await drain();
    [row] = await rowsByKey(key);
    expect(row).toMatchObject({ processed_at: null, attempts: 2, last_error: 'Error: Temporal unavailable (2)' });
    // The second failure waits about twice as long as the first.
    expect(row.due_in_ms).toBeGreaterThan(90_000);

    await dueNow();
    await drain();
    [row] = await rowsByKey(key);
    expect(calls).toBe(3);
    expect(row.attempts).toBe(3);
    expect(row.processed_at).not.toBeNull();
  });

  it("handles one customer's messages in arrival order, and holds the rest back when one fails", async () => {
    const line = await connectLine();
    const ids = [wamid(), wamid(), wamid()];
    for (const [i, id] of ids.entries()) await deliver(messageWebhook(line, id, `message ${i}`));
    const order: string[] = [];
    let failFirst = true;
    const handlers = new InboxHandlerRegistry();
    handlers.register('message', async (row) => {
      if (!ids.includes(row.dedupeKey)) return;
      if (row.dedupeKey === ids[0]) {
        // The first message is slow, and fails once: the later ones must neither overtake nor skip it.
        await new Promise((r) => setTimeout(r, 100));
        if (failFirst) {
          failFirst = false;
          throw new Error('Temporal unavailable');
        }
      }
      order.push(row.dedupeKey);
    });
    const options = dispatcher(handlers, { baseBackoffMs: 1, concurrency: 8 });
    await dispatchInboxOnce(options);
    expect(order).toEqual([]);
    const deferred = await inboxRows(`dedupe_key in (?, ?, ?)`, ids);
    expect(deferred.map((r) => r.processed_at)).toEqual([null, null, null]);
    expect(deferred.map((r) => r.attempts)).toEqual([1, 0, 0]);
    await new Promise((r) => setTimeout(r, 20));
    while ((await dispatchInboxOnce(options)).claimed > 0);
    expect(order).toEqual(ids);
  });

  it('never lets two concurrent dispatchers process the same row, and stops cleanly when aborted', async () => {
    const line = await connectLine();
    const prefix = `concurrency-${randomBytes(6).toString('hex')}`;
    const keys = Array.from({ length: 300 }, (_, i) => `${prefix}:${i}`);
    await storeInboxEvents(
      stack.orm.em.fork(),
      'whatsapp',
      keys.map((dedupeKey) => ({ dedupeKey, kind: 'status', phoneNumberId: line.phoneNumberId, tenantId: line.tenantId, payload: { dedupeKey } })),
    );
    const counts = new Map<string, number>();
    const byDispatcher = [0, 0];
    const handlerFor =
      (n: number): InboxHandler =>
      async (row) => {
        if (!row.dedupeKey.startsWith(prefix)) return;
        counts.set(row.dedupeKey, (counts.get(row.dedupeKey) ?? 0) + 1);
        byDispatcher[n]++;
        await new Promise((resolve) => setTimeout(resolve, randomInt(0, 3)));
      };
    const controllers = [new AbortController(), new AbortController()];
    const runs = controllers.map((controller, n) => {
      const handlers = new InboxHandlerRegistry();
      handlers.register('status', handlerFor(n));
      return runInboxDispatcher({ ...dispatcher(handlers, { batchSize: 7, concurrency: 4, pollIntervalMs: 10 }), signal: controller.signal });
    });

    const deadline = Date.now() + 30_000;
    while (counts.size < keys.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const stopAsked = Date.now();
    controllers.forEach((c) => c.abort());
    await Promise.all(runs);
    expect(Date.now() - stopAsked).toBeLessThan(2_000);

    expect(counts.size).toBe(keys.length);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    // Both took part: the sharing was real, not one dispatcher doing everything.
    expect(byDispatcher.every((n) => n > 0)).toBe(true);
    const pending = await inboxRows(`dedupe_key like ? and processed_at is null`, [`${prefix}:%`]);
    expect(pending).toEqual([]);
  });

  it('reports inbox depth and the age of the oldest unprocessed row', async () => {
    const line = await connectLine();
    const before = await inboxStats(stack.orm.em.fork());
    const keys = [`stats-${randomBytes(6).toString('hex')}:1`, `stats-${randomBytes(6).toString('hex')}:2`];
    await storeInboxEvents(
      stack.orm.em.fork(),
      'whatsapp',
      keys.map((dedupeKey) => ({ dedupeKey, kind: 'message', phoneNumberId: line.phoneNumberId, tenantId: line.tenantId, payload: {} })),
    );
    await stack.orm.em.getConnection().execute(`update webhook_inbox set received_at = now() - interval '10 minutes' where dedupe_key = ?`, [keys[0]]);
    const after = await inboxStats(stack.orm.em.fork());
    expect(after.depth).toBe(before.depth + 2);
    expect(after.oldestAgeSec).toBeGreaterThanOrEqual(600);

    await stack.orm.em.getConnection().execute(`update webhook_inbox set processed_at = now() where dedupe_key in (?, ?)`, keys);
    expect((await inboxStats(stack.orm.em.fork())).depth).toBe(before.depth);
  });
});
