import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { storeInboxEvents, type InboxRow } from '../../core/inbox/webhook-inbox';
import { dispatchInboxOnce, InboxHandlerRegistry, runInboxDispatcher, type DispatcherOptions } from '../../workers/inbox-dispatcher';
import { signedInAccount } from '../support/accounts';
import { eventually } from '../support/journey-stack';
import { openTestStack, type TestStack } from '../support/stack';

/**
 * The dispatcher sleeps between passes until PostgreSQL tells it new rows were committed (LISTEN/NOTIFY, from
 * migration 0015's trigger), so a webhook is handled at once rather than at the next poll; and it keeps the
 * lease of rows whose handler is slow, so the lease can be short enough for a crashed worker's rows to be
 * taken over soon.
 */
let stack: TestStack;
let tenantId: string;
const logger = pino({ level: 'silent' });

beforeAll(async () => {
  stack = await openTestStack();
  tenantId = (await signedInAccount(stack)).user.tenantId;
});
afterAll(async () => stack?.close());

/** Stores one status event with a key of its own; resolves when it is committed. */
async function store(prefix: string): Promise<{ key: string; committedAt: number }> {
  const key = `${prefix}:${randomBytes(6).toString('hex')}`;
  await storeInboxEvents(stack.orm.em.fork(), 'whatsapp', [{ dedupeKey: key, kind: 'status', phoneNumberId: '1', tenantId, payload: {} }]);
  return { key, committedAt: Date.now() };
}

/** A registry whose status handler notes when it saw each of this test's rows (and lets other rows through). */
function recorder(prefix: string, slowMs = 0) {
  const seen = new Map<string, number[]>();
  const handlers = new InboxHandlerRegistry();
  handlers.register('status', async (row: InboxRow) => {
    if (!row.dedupeKey.startsWith(prefix)) return;
    seen.set(row.dedupeKey, [...(seen.get(row.dedupeKey) ?? []), Date.now()]);
    if (slowMs) await sleep(slowMs);
  });
  return { handlers, seen };
}

const listeners = async () =>
  stack.orm.em
    .getConnection()
    .execute<Array<{ pid: number }>>(`select pid from pg_stat_activity where datname = current_database() and query ilike 'listen webhook_inbox%'`);

function startDispatcher(options: Partial<DispatcherOptions> & Pick<DispatcherOptions, 'handlers'>) {
  const controller = new AbortController();
  const done = runInboxDispatcher({ orm: stack.orm, logger, signal: controller.signal, ...options });
  return {
    async stop() {
      controller.abort();
      await done;
    },
  };
}

describe('waking the inbox dispatcher', () => {
  it('handles a row as soon as it is committed, long before the next poll', async () => {
    const prefix = `wake-${randomBytes(4).toString('hex')}`;
    const { handlers, seen } = recorder(prefix);
    // Polls only every minute: a row handled sooner was announced.
    const dispatcher = startDispatcher({ handlers, pollIntervalMs: 60_000, unnotifiedPollIntervalMs: 60_000 });
    try {
      await eventually(async () => ((await listeners()).length > 0 ? true : undefined), 'the dispatcher to listen');
      await sleep(200);
      for (let i = 0; i < 3; i++) {
        const { key, committedAt } = await store(prefix);
        const [handledAt] = await eventually(async () => seen.get(key), 'the row to be handled', 5_000);
        expect(handledAt - committedAt).toBeLessThan(1_000);
      }
    } finally {
      await dispatcher.stop();
    }
  });

  it('listens again when its connection drops, polling meanwhile', async () => {
    const prefix = `relisten-${randomBytes(4).toString('hex')}`;
    const { handlers, seen } = recorder(prefix);
    const dispatcher = startDispatcher({ handlers, pollIntervalMs: 60_000, unnotifiedPollIntervalMs: 300 });
    try {
      const [first] = await eventually(async () => {
        const found = await listeners();
        return found.length ? found : undefined;
      }, 'the dispatcher to listen');
      await stack.orm.em.getConnection().execute(`select pg_terminate_backend(?)`, [first.pid]);
      const lost = await store(prefix);
      await eventually(async () => seen.get(lost.key), 'the row stored while nobody listened to be handled', 5_000);
      await eventually(async () => {
        const found = await listeners();
        return found.length && found.every((l) => l.pid !== first.pid) ? true : undefined;
      }, 'a new listening connection', 10_000);
    } finally {
      await dispatcher.stop();
    }
  });
});

describe('leases of claimed rows', () => {
  it('are renewed while a handler is slow, so no other dispatcher takes the row meanwhile', async () => {
    const prefix = `lease-${randomBytes(4).toString('hex')}`;
    const { key } = await store(prefix);
    const slow = recorder(prefix, 2_000);
    const other = recorder(prefix);
    const options = { orm: stack.orm, logger, leaseMs: 600 };
    const running = dispatchInboxOnce({ ...options, handlers: slow.handlers });
    await eventually(async () => slow.seen.get(key), 'the slow handler to start');
    // Three leases long: without renewal the other dispatcher would take the row after the first.
    const deadline = Date.now() + 1_800;
    while (Date.now() < deadline) {
      await dispatchInboxOnce({ ...options, handlers: other.handlers });
      await sleep(100);
    }
    await running;
    expect(other.seen.get(key)).toBeUndefined();
    const [row] = await stack.orm.em.getConnection().execute<Array<{ processed_at: Date | null; attempts: number }>>(
      `select processed_at, attempts from webhook_inbox where dedupe_key = ?`,
      [key],
    );
    expect(row.processed_at).not.toBeNull();
    expect(row.attempts).toBe(1);
  });
});
