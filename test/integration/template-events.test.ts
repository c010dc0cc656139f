import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { InboxRow } from '../../core/inbox/webhook-inbox';
import { templateEventsHandler, UNKNOWN_TEMPLATE_PATIENCE_MS } from '../../workers/handlers/template-events';
import { signedInAccount } from '../support/accounts';
import { openTestStack, type TestStack } from '../support/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await openTestStack();
});
afterAll(async () => stack?.close());

const handle = templateEventsHandler(undefined);
const context = () => ({ em: stack.orm.em.fork(), logger: pino({ level: 'silent' }), signal: new AbortController().signal });

/** Meta's review verdict for a template, as the inbox holds it after `attempts` tries. */
function approval(wabaId: string, providerId: string, opts: { attempts: number; receivedAt: Date }): InboxRow {
  return {
    id: '1',
    provider: 'whatsapp',
    dedupeKey: `template:${providerId}:APPROVED`,
    kind: 'other',
    phoneNumberId: null,
    tenantId: null,
    receivedAt: opts.receivedAt,
    attempts: opts.attempts,
    lastError: null,
    payload: {
      kind: 'other',
      dedupeKey: `template:${providerId}:APPROVED`,
      wabaId,
      field: 'message_template_status_update',
      value: { event: 'APPROVED', message_template_id: providerId, message_template_name: 'late_row', message_template_language: 'en', reason: 'NONE' },
    },
  };
}

describe('template review webhooks that overtake the template they name', () => {
  it('keep being retried for a while, however many quick tries that takes, then apply once the row exists', async () => {
    const owner = await signedInAccount(stack);
    const wabaId = `3${Date.now()}`;
    const providerId = `${Date.now()}7`;
    // Twenty quick retries have failed already: still too early to give up on a row the API is about to write.
    await expect(handle(approval(wabaId, providerId, { attempts: 20, receivedAt: new Date() }), context())).rejects.toThrow(/no template/);

    const id = randomUUID();
    await stack.orm.em
      .getConnection()
      .execute(`insert into templates (id, tenant_id, waba_id, provider_template_id, name, language, category, status) values (?, ?, ?, ?, 'late_row', 'en', 'UTILITY', 'PENDING')`, [
        id,
        owner.user.tenantId,
        wabaId,
        providerId,
      ]);
    await handle(approval(wabaId, providerId, { attempts: 21, receivedAt: new Date() }), context());
    const [row] = await stack.orm.em.getConnection().execute<Array<{ status: string }>>(`select status from templates where id = ?`, [id]);
    expect(row.status).toBe('APPROVED');
  });

  it('are let go, not retried for ever, when no such template appears in time', async () => {
    const longAgo = new Date(Date.now() - UNKNOWN_TEMPLATE_PATIENCE_MS - 1_000);
    await expect(handle(approval(`3${Date.now()}`, `${Date.now()}8`, { attempts: 2, receivedAt: longAgo }), context())).resolves.toBeUndefined();
  });
});
