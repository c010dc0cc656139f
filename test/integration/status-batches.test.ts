import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { upsertConversation } from '../../core/conversations/store';
import { newId } from '../../core/ids';
import type { InboxRow } from '../../core/inbox/webhook-inbox';
import type { WhatsAppStatusEvent } from '../../activities/channels/whatsapp';
import { whatsappStatusHandler } from '../../workers/handlers/whatsapp-status';
import { signedInAccount } from '../support/accounts';
import { openTestStack, type TestStack } from '../support/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await openTestStack();
});
afterAll(async () => stack?.close());

const logger = pino({ level: 'silent' });

/** A sent message of a new conversation of the line, with its wamid. */
async function sentMessage(tenantId: string, lineId: string): Promise<string> {
  const em = stack.orm.em.fork();
  const contact = `9725${Date.now() % 10_000_000}${randomBytes(2).readUInt16BE() % 1000}`;
  const conversation = await upsertConversation(em, { tenantId, channel: 'whatsapp', lineId, contact });
  const wamid = `wamid.batch-${randomBytes(8).toString('hex')}`;
  await em
    .getConnection()
    .execute(`insert into messages (id, tenant_id, conversation_id, direction, type, text, payload, status, provider_message_id, sent_at) values (?, ?, ?, 'out', 'text', 'hi', '{}', 'sent', ?, now())`, [
      newId(),
      tenantId,
      conversation.id,
      wamid,
    ]);
  return wamid;
}

function statusRow(tenantId: string, phoneNumberId: string, wamid: string): InboxRow {
  const payload = {
    kind: 'status',
    messageId: wamid,
    status: 'delivered',
    timestamp: Math.floor(Date.now() / 1000),
    contact: { waId: '972500000000' },
    errors: [],
    raw: {},
  } as unknown as WhatsAppStatusEvent;
  return { id: '1', provider: 'whatsapp', dedupeKey: `${wamid}:delivered`, kind: 'status', phoneNumberId, tenantId, payload, receivedAt: new Date(), attempts: 1, lastError: null };
}

describe('delivery statuses applied together', () => {
  it('share transactions when they arrive at once, and each message still moves on', async () => {
    const owner = await signedInAccount(stack);
    const phoneNumberId = `8${Date.now() % 1_000_000_000}`;
    const line = await owner.agent.post('/api/settings/whatsapp').send({ phoneNumberId, wabaId: '3000002', accessToken: 'token-of-the-line-0002' });
    expect(line.status).toBe(201);
    const wamids = await Promise.all(Array.from({ length: 24 }, () => sentMessage(owner.user.tenantId, line.body.id)));
    const handler = whatsappStatusHandler({ orm: stack.orm, temporal: stack.temporal });

    const conn = stack.orm.em.getConnection();
    const spy = jest.spyOn(conn, 'execute');
    try {
      // As the dispatcher runs them: many handlers at once, each with its own entity manager.
      await Promise.all(wamids.map((w) => handler(statusRow(owner.user.tenantId, phoneNumberId, w), { em: stack.orm.em.fork(), logger })));
    } finally {
      const updates = spy.mock.calls.filter(([sql]) => typeof sql === 'string' && sql.includes('with prev as (select id, status, conversation_id from messages'));
      spy.mockRestore();
      expect(updates).toHaveLength(24);
      // Every update ran inside a transaction, and far fewer transactions than statuses were committed.
      const transactions = new Set(updates.map((call) => call[3]));
      expect(transactions.has(undefined)).toBe(false);
      expect(transactions.size).toBeLessThanOrEqual(6);
    }
    const rows = await conn.execute<Array<{ status: string }>>(`select status from messages where provider_message_id = any(?::text[])`, [`{${wamids.join(',')}}`]);
    expect(rows.map((r) => r.status)).toEqual(wamids.map(() => 'delivered'));
  });
});
