import { setTimeout as sleep } from 'node:timers/promises';
import type { MikroORM } from '@mikro-orm/postgresql';

/**
 * The per-line send governor. Every send to the provider first takes a slot here, so a line never sends
 * faster than its configured rate (whatsapp_lines.rate_per_second, Meta's 80/s by default) and one recipient
 * never gets messages faster than the pair rate (about one per 6 s, short bursts tolerated) — whichever
 * worker process sends, since the schedule lives in PostgreSQL.
 *
 * It is a GCRA (a token bucket held as one timestamp): `line_rate_buckets.next_slot_at` is the line's next
 * free slot. Taking n slots is one upsert that pushes it n spacings on and returns where the first slot
 * was, so slots are handed out in order, exactly `spacing` apart, to any number of processes; the caller
 * then sleeps until its slot and sends. The pair rate works the same on the recipient's row of
 * `pair_rate_slots` (one per line and recipient, whether or not they have a conversation on that line), with a
 * burst tolerance. Waits are computed by the database and handed back as durations, so workers' clocks never
 * matter. The schedule runs at `headroom` of the configured rate, because the provider counts arrivals and
 * arrivals jitter around their slots.
 *
 * Two safeguards keep a loaded process from bunching its sends, which the provider would count against the
 * line's second: a send that reaches its slot too late takes a new one rather than going out together with
 * later ones, and a send is held until the line's rate-th send before it is a full window (1 s / headroom)
 * old — counting this process's sends by its own clock, and every process's sends by the database's
 * (line_rate_buckets.recent_sends), so stalled processes cannot together exceed the rate. A send made
 * through `send` is also held until 1 s after the provider answered the rate-th send before it: the
 * provider counts that one's arrival, which came before its answer, so however the network or the
 * provider delayed it, the two arrivals are a full second apart.
 *
 * When the provider still answers a rate-limit error, the line pauses a moment and slows down for a while;
 * a pair-rate error pushes that recipient's next slot out.
 */

export interface GovernorOptions {
  /** Fraction of the configured rate that is scheduled. */
  headroom: number;
  /** Sustained pair rate to one recipient: one message per this many ms. */
  pairIntervalMs: number;
  /** Messages a recipient may get back to back before the pair interval applies. */
  pairBurst: number;
  /** A send that wakes more than this late for its slot takes a new one (at most `maxRetakes` times). */
  maxLatenessMs: number;
  maxRetakes: number;
  /** How long before its slot the caller's "sending now" mark is made. */
  markLeadMs: number;
  /** After a throughput error: the line runs at this fraction of its rate (compounding, down to minSlowdown)... */
  slowdownFactor: number;
  minSlowdown: number;
  /** ...for this long after the last such error. */
  slowdownMs: number;
  /** After a throughput error (130429): the line sends nothing for this long, so the provider's window clears. */
  throughputPauseMs: number;
}

export const defaultGovernorOptions: GovernorOptions = {
  headroom: 0.965,
  pairIntervalMs: 6_000,
  pairBurst: 45,
  maxLatenessMs: 25,
  maxRetakes: 3,
  markLeadMs: 30,
  slowdownFactor: 0.9,
  minSlowdown: 0.25,
  slowdownMs: 15_000,
  throughputPauseMs: 250,
};

/** Meta's rate-limit codes and what each one limits. */
const pairRateCode = 131056;
const lineRateCodes = new Set([130429, 4, 80007]);

export interface Reservation {
  /** Milliseconds from now until the first of the slots taken. */
  waitMs: number;
  /** Milliseconds between consecutive slots of this line at its current pace. */
  spacingMs: number;
  /** The line's configured rate. */
  ratePerSecond: number;
  /** Milliseconds from now until the recipient's pair slot (0 when no pair slot was asked for, or it is free). */
  pairWaitMs: number;
}

export interface TurnReport {
  /** How long the send waited for its slot. */
  waitedMs: number;
  /** Slots given up because the send woke up too late for them. */
  retakes: number;
}

type Conn = ReturnType<MikroORM['em']['getConnection']>;

/** One of this process's sends as the guard remembers it. */
interface FiredSend {
  /** When it left (performance.now). */
  left: number;
  /** When the provider's answer (or the failure) came back; undefined while the request is out. */
  answeredAt?: number;
  answered: Promise<void>;
  answer(): void;
}

/** How long an unanswered send can hold back the sends after it; past this its arrival counts as its leaving. */
const maxAnswerWaitMs = 2_000;
/** Margin over the provider's 1 s window for clock granularity between the two sides. */
const answerMarginMs = 3;

function firedSend(): FiredSend {
  const send = { left: performance.now() } as FiredSend;
  send.answered = new Promise<void>((resolve) => {
    send.answer = () => {
      send.answeredAt ??= performance.now();
      resolve();
    };
  });
  return send;
}

async function sleepUntil(at: number): Promise<void> {
  const ms = at - performance.now();
  if (ms > 0.5) await sleep(ms);
}

export class RateGovernor {
  readonly options: GovernorOptions;
  /** Counters for diagnostics: sends let through, slots given up for lateness, sends the guard held back. */
  readonly stats = { turns: 0, retakes: 0, guardWaits: 0 };
  /** This process's latest `rate` sends of each line, in the order they left. */
  private readonly fired = new Map<string, FiredSend[]>();

  constructor(
    private readonly orm: MikroORM,
    options: Partial<GovernorOptions> = {},
  ) {
    this.options = { ...defaultGovernorOptions, ...options };
  }

  private conn(): Conn {
    return this.orm.em.getConnection();
  }

  /**
   * Takes `count` consecutive slots of the line with this phone number id, and (with `contact`) one pair
   * slot of that recipient. Null when no line has the phone number id: nothing to govern.
   */
  async reserve(req: { phoneNumberId: string; contact?: string; count?: number }): Promise<Reservation | null> {
    const count = req.count ?? 1;
    const { headroom, pairIntervalMs, pairBurst } = this.options;
    const spacing = `(1.0 / ((select rate_per_second from whatsapp_lines where id = b.line_id) * ?::float8 * (case when b.slowdown_until > statement_timestamp() then b.slowdown else 1 end)))`;
    const pairCte = req.contact
      ? `, pair as (
          insert into pair_rate_slots as p (line_id, contact, next_slot_at)
          select l.id, ?, statement_timestamp() + make_interval(secs => ?::float8 / 1000) from whatsapp_lines l where l.phone_number_id = ?
          on conflict (line_id, contact) do update set next_slot_at = greatest(p.next_slot_at, statement_timestamp()) + make_interval(secs => ?::float8 / 1000)
          returning greatest(0, extract(epoch from p.next_slot_at - clock_timestamp()) * 1000 - ?::float8)::float8 as wait_ms)`
      : '';
    const rows = await this.conn().execute<Array<{ end_ms: number; spacing_ms: number; rate: number; pair_wait_ms: number | null }>>(
      `with line as (
         insert into line_rate_buckets as b (line_id, next_slot_at)
         select l.id, statement_timestamp() + make_interval(secs => ?::float8 / (l.rate_per_second * ?::float8)) from whatsapp_lines l where l.phone_number_id = ?
         on conflict (line_id) do update set next_slot_at = greatest(b.next_slot_at, statement_timestamp()) + make_interval(secs => ?::float8 * ${spacing})
         returning (extract(epoch from b.next_slot_at - clock_timestamp()) * 1000)::float8 as end_ms, (1000 * ${spacing})::float8 as spacing_ms,
           (select rate_per_second from whatsapp_lines where id = b.line_id) as rate
       )${pairCte}
       select line.end_ms, line.spacing_ms, line.rate, ${req.contact ? '(select wait_ms from pair)' : 'null::float8'} as pair_wait_ms from line`,
      [
        count,
        headroom,
        req.phoneNumberId,
        count,
        headroom,
        headroom,
        ...(req.contact ? [req.contact, pairIntervalMs, req.phoneNumberId, pairIntervalMs, pairIntervalMs * pairBurst] : []),
      ],
    );
    const row = rows[0];
    if (!row) return null;
    return { waitMs: Math.max(0, row.end_ms - count * row.spacing_ms), spacingMs: row.spacing_ms, ratePerSecond: row.rate, pairWaitMs: row.pair_wait_ms ?? 0 };
  }

  /**
   * How long a send on this line (to `contact`) would wait for its slot if it asked now, without taking one:
   * for a caller that must not wait long (a send inside a workflow task) and goes elsewhere when it would.
   */
  async backlogMs(req: { phoneNumberId: string; contact: string }): Promise<number> {
    const rows = await this.conn().execute<Array<{ line_ms: number | null; pair_ms: number | null }>>(
      `select (select extract(epoch from b.next_slot_at - clock_timestamp()) * 1000 from line_rate_buckets b where b.line_id = l.id)::float8 as line_ms,
         (select extract(epoch from p.next_slot_at - clock_timestamp()) * 1000 - ?::float8 from pair_rate_slots p
           where p.line_id = l.id and p.contact = ?)::float8 as pair_ms
       from whatsapp_lines l where l.phone_number_id = ?`,
      [this.options.pairIntervalMs * this.options.pairBurst, req.contact, req.phoneNumberId],
    );
    return Math.max(0, rows[0]?.line_ms ?? 0, rows[0]?.pair_ms ?? 0);
  }

  /**
   * Slots for `n` sends of the line, as milliseconds from now, in order: for a caller that sends a batch
   * itself. Empty when no line has the phone number id.
   */
  async acquireSendSlots(phoneNumberId: string, n: number): Promise<number[]> {
    const r = await this.reserve({ phoneNumberId, count: n });
    return r ? Array.from({ length: n }, (_, i) => r.waitMs + i * r.spacingMs) : [];
  }

  /**
   * Resolves when this send may leave: its pair slot is due and it holds the line's current slot.
   * `beforeLeaving` runs once, just before the slot, right before the send goes (the caller's durable
   * "sending now" mark). A send that reaches its slot too late takes a new one; then the line's guard makes
   * sure no more than the line's rate leave in any window of 1 s / headroom, whatever timers and schedulers
   * in any process did to the sends before it.
   */
  async waitForTurn(req: { phoneNumberId: string; contact?: string }, beforeLeaving?: () => Promise<void>): Promise<TurnReport> {
    const turn = await this.takeTurn(req, beforeLeaving);
    turn.fired?.answer();
    return turn.report;
  }

  /**
   * Waits for the send's turn as `waitForTurn` does, then makes the request with `request` and remembers when
   * its answer came back (success or failure), which holds the line's rate-th next send a second after it.
   */
  async send<T>(req: { phoneNumberId: string; contact?: string }, beforeLeaving: (() => Promise<void>) | undefined, request: () => Promise<T>): Promise<T> {
    const turn = await this.takeTurn(req, beforeLeaving);
    try {
      return await request();
    } finally {
      turn.fired?.answer();
    }
  }

  private async takeTurn(
    req: { phoneNumberId: string; contact?: string },
    beforeLeaving?: () => Promise<void>,
  ): Promise<{ report: TurnReport; fired?: FiredSend }> {
    const started = performance.now();
    let reservation = await this.reserve(req);
    if (!reservation) {
      await beforeLeaving?.();
      return { report: { waitedMs: performance.now() - started, retakes: 0 } };
    }
    // Waits are counted from the end of the statement (after any wait for a connection or the row lock).
    let target = performance.now() + reservation.waitMs;
    if (reservation.pairWaitMs > reservation.waitMs + this.options.maxLatenessMs) {
      // This recipient is over the pair rate: wait for it, then take a fresh line slot (the one taken is left empty).
      await sleep(reservation.pairWaitMs);
      reservation = (await this.reserve({ phoneNumberId: req.phoneNumberId })) ?? reservation;
      target = performance.now() + reservation.waitMs;
    }
    let retakes = 0;
    let marked = !beforeLeaving;
    for (;;) {
      if (!marked) {
        // The caller's mark is made just before the slot, so its round trip does not make the send late.
        await sleepUntil(target - this.options.markLeadMs);
        await beforeLeaving!();
        marked = true;
      }
      await sleepUntil(target);
      const late = performance.now() - target;
      if (late <= this.options.maxLatenessMs || retakes >= this.options.maxRetakes) break;
      retakes++;
      reservation = (await this.reserve({ phoneNumberId: req.phoneNumberId })) ?? reservation;
      target = performance.now() + reservation.waitMs;
    }
    const fired = await this.guard(req.phoneNumberId, reservation.ratePerSecond);
    this.stats.turns++;
    this.stats.retakes += retakes;
    return { report: { waitedMs: performance.now() - started, retakes }, fired };
  }

  /**
   * Holds a send until the `rate`-th send before it on this line is a full window old: first among this
   * process's sends, by this process's clock, which is closest to the moment the request leaves; then among
   * every process's sends, by the database's clock.
   */
  private async guard(phoneNumberId: string, rate: number): Promise<FiredSend> {
    const windowMs = 1000 / this.options.headroom;
    const log = this.fired.get(phoneNumberId) ?? [];
    this.fired.set(phoneNumberId, log);
    for (;;) {
      const now = performance.now();
      const before = log.length >= rate ? log[log.length - rate] : undefined;
      if (!before) break;
      if (before.answeredAt === undefined && now < before.left + maxAnswerWaitMs) {
        this.stats.guardWaits++;
        await Promise.race([before.answered, sleep(before.left + maxAnswerWaitMs - now)]);
        continue;
      }
      const due = Math.max(before.left + windowMs, before.answeredAt === undefined ? 0 : before.answeredAt + 1000 + answerMarginMs);
      if (now >= due) break;
      this.stats.guardWaits++;
      await sleep(due - now);
    }
    // Taken before the database's turn, so that sends of this process waiting alongside count this one.
    const fired = firedSend();
    log.push(fired);
    if (log.length > rate) log.splice(0, log.length - rate);
    for (;;) {
      const [row] = await this.conn().execute<Array<{ wait_ms: number }>>(`select line_send_guard(?, ?::float8) as wait_ms`, [phoneNumberId, windowMs]);
      if (!(row.wait_ms > 0)) break;
      this.stats.guardWaits++;
      await sleep(row.wait_ms);
    }
    fired.left = performance.now();
    return fired;
  }

  /** After the provider answered a rate-limit error for a send of this line (to this recipient). */
  async rateLimited(req: { phoneNumberId: string; contact?: string; code?: number; retryAfterMs?: number }): Promise<void> {
    if (req.code === pairRateCode) {
      if (!req.contact) return;
      const { pairIntervalMs, pairBurst } = this.options;
      // The recipient's burst is used up, and their next slot is the hint (or one interval) from now: the pair
      // schedule's next time is that far ahead plus the burst tolerance.
      const nextAtMs = Math.max(req.retryAfterMs ?? 0, pairIntervalMs) + pairIntervalMs * (pairBurst - 1);
      await this.conn().execute(
        `insert into pair_rate_slots as p (line_id, contact, next_slot_at)
         select l.id, ?, statement_timestamp() + make_interval(secs => ?::float8 / 1000) from whatsapp_lines l where l.phone_number_id = ?
         on conflict (line_id, contact) do update set next_slot_at = greatest(p.next_slot_at, excluded.next_slot_at)`,
        [req.contact, nextAtMs, req.phoneNumberId],
      );
      return;
    }
    if (req.code !== undefined && !lineRateCodes.has(req.code)) return;
    const { slowdownFactor, minSlowdown, slowdownMs } = this.options;
    // 130429 is this second's budget; 4 and 80007 are the app's and the account's, with hints of a minute.
    const pauseMs = req.code === 130429 ? Math.min(req.retryAfterMs ?? Infinity, this.options.throughputPauseMs) : (req.retryAfterMs ?? this.options.throughputPauseMs);
    await this.conn().execute(
      `insert into line_rate_buckets as b (line_id, next_slot_at, slowdown, slowdown_until, rate_errors, last_rate_error_code, last_rate_error_at)
       select l.id, statement_timestamp() + make_interval(secs => ?::float8 / 1000), ?::float8,
         statement_timestamp() + make_interval(secs => ?::float8 / 1000), 1, ?, statement_timestamp()
       from whatsapp_lines l where l.phone_number_id = ?
       on conflict (line_id) do update set
         slowdown = greatest(?::float8, ?::float8 * (case when b.slowdown_until > statement_timestamp() then b.slowdown else 1 end)),
         slowdown_until = excluded.slowdown_until,
         next_slot_at = greatest(b.next_slot_at, excluded.next_slot_at),
         rate_errors = b.rate_errors + 1, last_rate_error_code = excluded.last_rate_error_code, last_rate_error_at = excluded.last_rate_error_at`,
      [pauseMs, slowdownFactor, slowdownMs, req.code ?? null, req.phoneNumberId, minSlowdown, slowdownFactor],
    );
  }
}

/** What an operator sees of a line's governor. */
export interface LinePace {
  ratePerSecond: number;
  /** The rate the governor schedules now: headroom, and any slowdown after rate-limit errors. */
  effectiveRatePerSecond: number;
  slowedUntil: string | null;
  rateErrors: number;
  lastRateErrorCode: number | null;
  lastRateErrorAt: string | null;
}

export async function linePace(orm: MikroORM, lineId: string, headroom = defaultGovernorOptions.headroom): Promise<LinePace | null> {
  const [row] = await orm.em.getConnection().execute<
    Array<{ rate: number; slowdown: number | null; slowdown_until: Date | null; rate_errors: number | null; code: number | null; at: Date | null; slowed: boolean }>
  >(
    `select l.rate_per_second as rate, b.slowdown, b.slowdown_until, b.rate_errors, b.last_rate_error_code as code, b.last_rate_error_at as at,
       coalesce(b.slowdown_until > now(), false) as slowed
     from whatsapp_lines l left join line_rate_buckets b on b.line_id = l.id where l.id = ?`,
    [lineId],
  );
  if (!row) return null;
  return {
    ratePerSecond: row.rate,
    effectiveRatePerSecond: row.rate * headroom * (row.slowed ? (row.slowdown ?? 1) : 1),
    slowedUntil: row.slowed && row.slowdown_until ? new Date(row.slowdown_until).toISOString() : null,
    rateErrors: row.rate_errors ?? 0,
    lastRateErrorCode: row.code,
    lastRateErrorAt: row.at ? new Date(row.at).toISOString() : null,
  };
}
