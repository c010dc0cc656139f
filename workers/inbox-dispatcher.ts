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
 * only delays it (a crashed process's lease runs out and another process takes the row; a live one renews
 * the lease of rows it is still handling, so the lease can be short).
 *
 * Between passes the dispatcher sleeps until PostgreSQL notifies it of new rows (migration 0015's trigger
 * NOTIFYs channel `webhook_inbox` when an insert commits), until the next retry falls due, or at the latest
 * for pollIntervalMs, a safety net for notifications lost while its listening connection was down.
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
  /**
   * How long a claimed row is reserved for this process; past it, another process may take the row. Renewed
   * every third of it while the row's handler runs, so it only bounds how long a crashed process's rows wait.
   */
  leaseMs?: number;
  /** First retry delay, doubled at each further failure up to maxBackoffMs. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Longest pause between passes when the inbox had less than a full batch due (new rows wake it sooner). */
  pollIntervalMs?: number;
  /** Longest pause between passes while no notification can arrive (the listening connection is down or off). */
  unnotifiedPollIntervalMs?: number;
  /** Wait for PostgreSQL's notifications of new rows (LISTEN webhook_inbox); off, only polling finds them. */
  listen?: boolean;
}

export const dispatcherDefaults = {
  batchSize: 100,
  concurrency: 16,
  leaseMs: 30_000,
  baseBackoffMs: 1_000,
  maxBackoffMs: 60 * 60_000,
  pollIntervalMs: 1_000,
  unnotifiedPollIntervalMs: 200,
  listen: true,
};

/** The channel migration 0015's trigger notifies when new inbox rows are committed. */
export const INBOX_CHANNEL = 'webhook_inbox';

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
  const opts = { ...dispatcherDefaults, ...options };
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

  // Rows whose outcome is not written yet keep their lease while the pass runs (a slow handler, an outage).
  // A row leaves the set, after any renewal under way, before its outcome is written.
  const held = new Set(claimed.map((r) => String(r.id)));
  let renewing: Promise<unknown> = Promise.resolve();
  const renewal = setInterval(() => {
    const ids = [...held].join(',');
    if (!ids) return;
    renewing = renewing.then(() =>
      conn
        .execute(`update webhook_inbox set next_attempt_at = now() + make_interval(secs => ?) where id = any(string_to_array(?, ',')::bigint[]) and processed_at is null`, [
          opts.leaseMs / 1000,
          ids,
        ])
        .catch((err) => opts.logger.warn({ err }, 'renewing the lease of inbox rows failed')),
    );
  }, opts.leaseMs / 3);
  const letGo = async (ids: string[]): Promise<void> => {
    for (const id of ids) held.delete(String(id));
    await renewing;
  };

  const done: string[] = [];
  const released: string[] = [];
  const queue = [...claimed].sort((a, b) => Number(a.id) - Number(b.id));
  const runOne = async (raw: ClaimedRow): Promise<void> => {
    const row = toRow(raw);
    const log = opts.logger.child({ inboxId: row.id, tenantId: row.tenantId, kind: row.kind, provider: row.provider });
    const handler = handlers.get(row.kind);
    // An event of a line no tenant has is dropped. One that names only a WABA (a template's review) has no
    // tenant when several tenants' lines share that WABA; its handler finds what it concerns by the WABA.
    if (row.tenantId === null && (row.phoneNumberId !== null || !handler)) {
      log.warn({ phoneNumberId: row.phoneNumberId }, 'webhook event of no tenant: dropped');
      done.push(row.id);
      return;
    }
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
      await letGo([row.id]);
      await conn.execute(`update webhook_inbox set last_error = ?, next_attempt_at = now() + make_interval(secs => ?) where id = ?`, [
        describeError(err),
        delayMs / 1000,
        row.id,
      ]);
    }
  };
  const deferAfter = async (rest: ClaimedRow[], failed: ClaimedRow): Promise<void> => {
    if (!rest.length) return;
    await letGo(rest.map((r) => r.id));
    await conn.execute(
      `update webhook_inbox set attempts = attempts - 1, next_attempt_at = (select next_attempt_at from webhook_inbox where id = ?) + interval '1 millisecond'
       where id = any(string_to_array(?, ',')::bigint[])`,
      [failed.id, rest.map((r) => r.id).join(',')],
    );
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
  try {
    await Promise.all(
      Array.from({ length: Math.min(opts.concurrency, pending.length) }, async () => {
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
      }),
    );
  } finally {
    clearInterval(renewal);
    await letGo([...held]);
  }

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

/** Longest pause after a failed pass (the database is down): short, so that the inbox drains soon after it is back. */
const MAX_ERROR_PAUSE_MS = 5_000;
/** How often to try again to listen after the listening connection could not be made or dropped. */
const RELISTEN_MS = 2_000;

/**
 * Runs passes until `signal` is aborted, then finishes the pass in progress and resolves. A full batch is
 * followed at once by the next pass; otherwise the loop sleeps until a notification of new rows, the next
 * retry's due time, or pollIntervalMs, whichever comes first. A database error is logged and retried: the
 * loop only ends when asked to.
 */
export async function runInboxDispatcher(options: DispatcherOptions & { signal: AbortSignal }): Promise<void> {
  const opts = { ...dispatcherDefaults, ...options };
  const { signal, logger } = options;
  const handlers = options.handlers ?? inboxHandlers;
  const wakeups = opts.listen ? new InboxWakeups(opts.orm, logger) : undefined;
  logger.info({ batchSize: opts.batchSize, concurrency: opts.concurrency }, 'inbox dispatcher started');
  let errors = 0;
  try {
    while (!signal.aborted) {
      await wakeups?.connect();
      let pause: number;
      try {
        const pass = await dispatchInboxOnce(options, signal);
        errors = 0;
        const idle = wakeups?.listening ? opts.pollIntervalMs : opts.unnotifiedPollIntervalMs;
        pause = pass.claimed >= opts.batchSize ? 0 : Math.min(idle, Math.max(10, await msUntilNextDue(opts.orm, handlers)));
      } catch (err) {
        errors++;
        pause = Math.min(MAX_ERROR_PAUSE_MS, opts.unnotifiedPollIntervalMs * 2 ** Math.min(errors, 8));
        logger.error({ err, retryInMs: pause }, 'inbox dispatcher pass failed');
      }
      if (pause > 0) {
        if (wakeups) await wakeups.wait(pause, signal);
        else await sleep(pause, undefined, { signal }).catch(() => {});
      }
    }
  } finally {
    await wakeups?.close();
  }
  logger.info('inbox dispatcher stopped');
}

/** Milliseconds until the earliest unprocessed row this dispatcher handles falls due (0 if one is due; Infinity if none). */
async function msUntilNextDue(orm: MikroORM, handlers: InboxHandlerRegistry): Promise<number> {
  const [row] = await orm.em.getConnection().execute<Array<{ ms: number | null }>>(
    `select (extract(epoch from min(next_attempt_at) - now()) * 1000)::float8 as ms from webhook_inbox
     where processed_at is null and (tenant_id is null or kind = any(string_to_array(?, ',')))`,
    [handlers.kinds().join(',')],
  );
  return row?.ms === null || row?.ms === undefined ? Infinity : Math.max(0, row.ms);
}

/** The part of node-postgres's Client that listening needs (the driver's own connection, made by knex). */
interface ListeningConnection {
  query(sql: string): Promise<unknown>;
  on(event: 'notification', listener: () => void): unknown;
  on(event: 'error' | 'end', listener: (err?: Error) => void): unknown;
  end(): Promise<void>;
}

/**
 * A connection of its own, outside the pool, that LISTENs on the inbox channel. `wait` ends at the first
 * notification (or at once if one came since the last wait), at the timeout, or when stopping. A dropped
 * connection (the database restarted) is made again at the next `connect`, and the first wait after that
 * ends at once, since rows may have arrived while nobody listened.
 */
class InboxWakeups {
  private connection: ListeningConnection | undefined;
  private nextTryAt = 0;
  private notified = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly orm: MikroORM,
    private readonly logger: Logger,
  ) {}

  get listening(): boolean {
    return this.connection !== undefined;
  }

  /** Listens, unless it does already or tried less than RELISTEN_MS ago; never throws. */
  async connect(): Promise<void> {
    if (this.connection || Date.now() < this.nextTryAt) return;
    this.nextTryAt = Date.now() + RELISTEN_MS;
    let connection: ListeningConnection | undefined;
    try {
      const knex = this.orm.em.getConnection().getKnex().client as { acquireRawConnection(): Promise<ListeningConnection> };
      connection = await knex.acquireRawConnection();
      const candidate = connection;
      const lost = (err?: Error) => {
        if (this.connection !== candidate) return;
        this.connection = undefined;
        this.logger.warn({ err }, 'inbox dispatcher: the connection listening for new rows dropped; polling until it is back');
        candidate.end().catch(() => undefined);
        // A wait that counted on notifications ends now: from here on it polls, and tries to listen again.
        this.notify();
      };
      connection.on('error', lost);
      connection.on('end', lost);
      connection.on('notification', () => this.notify());
      await connection.query(`listen ${INBOX_CHANNEL}`);
      this.connection = connection;
      this.notify();
    } catch (err) {
      this.logger.warn({ err }, 'inbox dispatcher: cannot listen for new rows; polling');
      connection?.end().catch(() => undefined);
    }
  }

  wait(ms: number, signal: AbortSignal): Promise<void> {
    if (this.notified || signal.aborted) {
      this.notified = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wake = undefined;
        this.notified = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.wake = done;
    });
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    await connection?.end().catch(() => undefined);
  }

  private notify(): void {
    this.notified = true;
    this.wake?.();
  }
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
