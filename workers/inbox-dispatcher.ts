import { setTimeout as sleep } from 'node:timers/promises';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { InboxKind, InboxRow } from '../core/inbox/webhook-inbox';

export { inboxStats, type InboxStats } from '../core/inbox/webhook-inbox';

/**
 * Drains the webhook inbox in the worker process. Each pass claims a batch of due rows with
 * `for update skip locked` and leases them (pushes their next attempt into the future) in one short
 * statement, so any number of worker processes share the work without taking the same row; then it runs
 * each row's handler outside any transaction and marks the row processed, or records the error and
 * schedules a retry with exponential backoff. A row is never lost: a failure, a crash or a Temporal outage
 * only delays it (a crashed process's lease runs out and another process takes the row).
 *
 * Delivery is therefore at least once: a handler must be idempotent (the journey engine signals with the
 * provider's message id, which it deduplicates).
 */

export interface InboxHandlerContext {
  /** A fresh entity manager for this row. */
  em: EntityManager;
  logger: Logger;
  /** Aborted when the dispatcher is stopping. */
  signal: AbortSignal;
}

/** Resolves when the row is handled; throws to have it retried later. */
export type InboxHandler = (row: InboxRow, ctx: InboxHandlerContext) => Promise<void>;

export class InboxHandlerRegistry {
  private readonly handlers = new Map<InboxKind, InboxHandler>();

  constructor() {
    // Events we do not act on (template status updates, account changes...) are kept, and marked done.
    this.handlers.set('other', async () => {});
  }

  /** Replaces the handler of `kind`; returns a function that removes it again. */
  register(kind: InboxKind, handler: InboxHandler): () => void {
    this.handlers.set(kind, handler);
    return () => {
      if (this.handlers.get(kind) === handler) this.handlers.delete(kind);
    };
  }

  get(kind: InboxKind): InboxHandler | undefined {
    return this.handlers.get(kind);
  }

  /** Rows of other kinds stay in the inbox, unclaimed, until a handler for them is registered. */
  kinds(): InboxKind[] {
    return [...this.handlers.keys()];
  }
}

/** The registry the worker's dispatcher uses. The journey engine registers `message` and `status` here. */
export const inboxHandlers = new InboxHandlerRegistry();

export const registerInboxHandler = (kind: InboxKind, handler: InboxHandler): (() => void) => inboxHandlers.register(kind, handler);

export interface DispatcherOptions {
  orm: MikroORM;
  logger: Logger;
  handlers?: InboxHandlerRegistry;
  /** Rows claimed per pass. */
  batchSize?: number;
  /** Handlers running at once within a pass. */
  concurrency?: number;
  /** How long a claimed row is reserved for this process; past it, another process may take the row. */
  leaseMs?: number;
  /** First retry delay, doubled at each further failure up to maxBackoffMs. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Pause between passes when the inbox had less than a full batch due. */
  pollIntervalMs?: number;
}

const defaults = {
  batchSize: 100,
  concurrency: 16,
  leaseMs: 5 * 60_000,
  baseBackoffMs: 1_000,
  maxBackoffMs: 60 * 60_000,
  pollIntervalMs: 200,
};

export interface PassResult {
  claimed: number;
  processed: number;
  failed: number;
}

interface ClaimedRow {
  id: string;
  provider: string;
  dedupe_key: string;
  kind: InboxKind;
  phone_number_id: string | null;
  tenant_id: string | null;
  payload: unknown;
  received_at_ms: number;
  attempts: number;
  last_error: string | null;
}

/** Backoff of the n-th failure (n ≥ 1), with ±20 % jitter so failed rows of one burst spread out. */
export function retryDelayMs(attempts: number, opts: { baseBackoffMs: number; maxBackoffMs: number }): number {
  const exact = Math.min(opts.maxBackoffMs, opts.baseBackoffMs * 2 ** Math.min(30, Math.max(0, attempts - 1)));
  return Math.round(exact * (0.8 + Math.random() * 0.4));
}

/** One pass: claim a batch of due rows, handle them, record the outcome. */
export async function dispatchInboxOnce(options: DispatcherOptions, signal: AbortSignal = new AbortController().signal): Promise<PassResult> {
  const opts = { ...defaults, ...options };
  const handlers = options.handlers ?? inboxHandlers;
  const conn = opts.orm.em.getConnection();
  const claimed = await conn.execute<ClaimedRow[]>(
    `update webhook_inbox i
     set attempts = i.attempts + 1, next_attempt_at = now() + make_interval(secs => ?)
     from (
       select id from webhook_inbox
       where processed_at is null and next_attempt_at <= now()
         and (tenant_id is null or kind = any(string_to_array(?, ',')))
       order by next_attempt_at, id
       limit ?
       for update skip locked
     ) due
     where i.id = due.id
     returning i.id, i.provider, i.dedupe_key, i.kind, i.phone_number_id, i.tenant_id, i.payload, i.attempts, i.last_error,
       (extract(epoch from i.received_at) * 1000)::float8 as received_at_ms`,
    [opts.leaseMs / 1000, handlers.kinds().join(','), opts.batchSize],
  );
  const result: PassResult = { claimed: claimed.length, processed: 0, failed: 0 };
  if (claimed.length === 0) return result;

  const done: string[] = [];
  const released: string[] = [];
  const queue = [...claimed].sort((a, b) => Number(a.id) - Number(b.id));
  const runOne = async (raw: ClaimedRow): Promise<void> => {
    const row = toRow(raw);
    const log = opts.logger.child({ inboxId: row.id, tenantId: row.tenantId, kind: row.kind, provider: row.provider });
    if (row.tenantId === null) {
      log.warn({ phoneNumberId: row.phoneNumberId }, 'webhook event for a phone number id no line has: dropped');
      done.push(row.id);
      return;
    }
    const handler = handlers.get(row.kind);
    if (!handler) {
      released.push(row.id);
      return;
    }
    try {
      await handler(row, { em: opts.orm.em.fork(), logger: log, signal });
      done.push(row.id);
    } catch (err) {
      result.failed++;
      const delayMs = retryDelayMs(row.attempts, opts);
      log.warn({ err, attempts: row.attempts, retryInMs: delayMs }, 'inbox handler failed; will retry');
      await conn.execute(`update webhook_inbox set last_error = ?, next_attempt_at = now() + make_interval(secs => ?) where id = ?`, [
        describeError(err),
        delayMs / 1000,
        row.id,
      ]);
    }
  };
  // One customer's messages run one after another, in arrival order, so their journey sees them in turn;
  // after a failure the rest of that customer's batch waits for the retry rather than overtaking it.
  const groups = new Map<string, ClaimedRow[]>();
  for (const raw of queue) {
    const key = orderingKey(raw);
    const group = groups.get(key);
    if (group) group.push(raw);
    else groups.set(key, [raw]);
  }
  const pending = [...groups.values()];
  const lanes = Array.from({ length: Math.min(opts.concurrency, pending.length) }, async () => {
    for (let group = pending.shift(); group; group = pending.shift()) {
      for (let i = 0; i < group.length; i++) {
        // Stopping: hand back what was not started rather than leave it leased.
        if (signal.aborted) {
          released.push(group[i].id);
          continue;
        }
        const failedBefore = result.failed;
        await runOne(group[i]);
        if (result.failed > failedBefore) {
          await deferAfter(group.slice(i + 1), group[i]);
          break;
        }
      }
    }
  });
  const deferAfter = async (rest: ClaimedRow[], failed: ClaimedRow): Promise<void> => {
    if (!rest.length) return;
    await conn.execute(
      `update webhook_inbox set attempts = attempts - 1, next_attempt_at = (select next_attempt_at from webhook_inbox where id = ?) + interval '1 millisecond'
       where id = any(string_to_array(?, ',')::bigint[])`,
      [failed.id, rest.map((r) => r.id).join(',')],
    );
  };
  await Promise.all(lanes);

  if (done.length) {
    await conn.execute(`update webhook_inbox set processed_at = now() where id = any(string_to_array(?, ',')::bigint[])`, [done.join(',')]);
  }
  if (released.length) {
    await conn.execute(`update webhook_inbox set attempts = attempts - 1, next_attempt_at = now() where id = any(string_to_array(?, ',')::bigint[])`, [
      released.join(','),
    ]);
  }
  result.processed = done.length;
  return result;
}

/** Rows with the same key must be handled in order: a customer's messages on one line. */
function orderingKey(row: ClaimedRow): string {
  if (row.kind !== 'message') return `row:${row.id}`;
  const payload = row.payload as { contact?: { waId?: string }; raw?: { from?: string } } | null;
  return `message:${row.phone_number_id}:${payload?.contact?.waId ?? payload?.raw?.from ?? row.id}`;
}

/**
 * Runs passes until `signal` is aborted, then finishes the pass in progress and resolves. A full batch is
 * followed at once by the next pass; otherwise the loop waits pollIntervalMs. A database error is logged
 * and retried: the loop only ends when asked to.
 */
export async function runInboxDispatcher(options: DispatcherOptions & { signal: AbortSignal }): Promise<void> {
  const opts = { ...defaults, ...options };
  const { signal, logger } = options;
  logger.info({ batchSize: opts.batchSize, concurrency: opts.concurrency }, 'inbox dispatcher started');
  let errors = 0;
  while (!signal.aborted) {
    let pause = opts.pollIntervalMs;
    try {
      const pass = await dispatchInboxOnce(options, signal);
      errors = 0;
      if (pass.claimed >= opts.batchSize) pause = 0;
    } catch (err) {
      errors++;
      pause = Math.min(30_000, opts.pollIntervalMs * 2 ** Math.min(errors, 8));
      logger.error({ err, retryInMs: pause }, 'inbox dispatcher pass failed');
    }
    if (pause > 0) await sleep(pause, undefined, { signal }).catch(() => {});
  }
  logger.info('inbox dispatcher stopped');
}

function toRow(raw: ClaimedRow): InboxRow {
  return {
    id: String(raw.id),
    provider: raw.provider,
    dedupeKey: raw.dedupe_key,
    kind: raw.kind,
    phoneNumberId: raw.phone_number_id,
    tenantId: raw.tenant_id,
    payload: raw.payload,
    receivedAt: new Date(raw.received_at_ms),
    attempts: raw.attempts,
    lastError: raw.last_error,
  };
}

function describeError(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.slice(0, 2000);
}
