import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { Coalescer } from '../db/coalescer';

/**
 * The webhook inbox (table `webhook_inbox`): the API writes each provider event here and answers at once;
 * the worker's dispatcher (workers/inbox-dispatcher.ts) drains it. Its unique key (provider, dedupe_key) is
 * the deduplication, so a redelivered webhook costs one insert that does nothing.
 */

export const inboxKinds = ['message', 'status', 'other'] as const;
export type InboxKind = (typeof inboxKinds)[number];

export interface InboxEvent {
  /** The provider's id for the event (e.g. the message id, or message id + status for a status). */
  dedupeKey: string;
  kind: InboxKind;
  phoneNumberId: string | null;
  /** Null when no line of this installation has the phone number: still stored, then dropped by the dispatcher. */
  tenantId: string | null;
  payload: unknown;
}

export interface InboxRow {
  id: string;
  provider: string;
  dedupeKey: string;
  kind: InboxKind;
  phoneNumberId: string | null;
  tenantId: string | null;
  payload: unknown;
  receivedAt: Date;
  /** Including the attempt in progress. */
  attempts: number;
  lastError: string | null;
}

type Connection = ReturnType<EntityManager['getConnection']>;

/** Inserts the events that are new, in one statement; returns the dedupe keys that were new. */
async function insertNew(conn: Connection, provider: string, events: InboxEvent[]): Promise<Set<string>> {
  const rows = events.map((e) => ({ dedupe_key: e.dedupeKey, kind: e.kind, phone_number_id: e.phoneNumberId, tenant_id: e.tenantId, payload: e.payload }));
  const inserted = await conn.execute<{ dedupe_key: string }[]>(
    `insert into webhook_inbox (provider, dedupe_key, kind, phone_number_id, tenant_id, payload)
     select ?, e.dedupe_key, e.kind, e.phone_number_id, e.tenant_id, e.payload
     from jsonb_to_recordset(?::jsonb) as e(dedupe_key text, kind text, phone_number_id text, tenant_id uuid, payload jsonb)
     on conflict (provider, dedupe_key) do nothing
     returning dedupe_key`,
    [provider, JSON.stringify(rows)],
  );
  return new Set(inserted.map((r) => r.dedupe_key));
}

/** Inserts the events that are new, in one statement; returns how many were new. */
export async function storeInboxEvents(em: EntityManager, provider: string, events: InboxEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  return (await insertNew(em.getConnection(), provider, events)).size;
}

/**
 * An event as a WhatsApp webhook brings it, before its tenant is known: the tenant is its line's (by phone
 * number id), or for an event that names only a WABA (a template's review) the one tenant whose lines use
 * that WABA; the database finds it in the statement that stores the event.
 */
export interface LineEvent {
  dedupeKey: string;
  kind: InboxKind;
  phoneNumberId: string | null;
  wabaId: string | null;
  payload: unknown;
}

export interface StoredWebhook {
  /** How many of the webhook's events were new. */
  stored: number;
  /** Phone number ids of the webhook that no line has (their events are stored with no tenant). */
  unknownPhoneNumberIds: string[];
}

/**
 * Finds each event's tenant and inserts the new ones, in one statement: a webhook costs no look-up round trip
 * of its own, and the tenant is read in the same snapshot that stores it. Returns the dedupe keys that were
 * new and the phone number ids no line has.
 */
async function insertLineEvents(conn: Connection, provider: string, events: LineEvent[]): Promise<{ fresh: Set<string>; unknown: Set<string> }> {
  const rows = events.map((e) => ({ dedupe_key: e.dedupeKey, kind: e.kind, phone_number_id: e.phoneNumberId, waba_id: e.wabaId, payload: e.payload }));
  const result = await conn.execute<{ dedupe_key: string | null; unknown_line: string | null }[]>(
    `with e as materialized (
       select e.dedupe_key, e.kind, e.phone_number_id, e.payload,
         case when e.phone_number_id is not null
           then (select l.tenant_id from whatsapp_lines l where l.phone_number_id = e.phone_number_id)
           else (select case when count(distinct l.tenant_id) = 1 then (array_agg(l.tenant_id))[1] end from whatsapp_lines l where l.waba_id = e.waba_id)
         end as tenant_id
       from jsonb_to_recordset(?::jsonb) as e(dedupe_key text, kind text, phone_number_id text, waba_id text, payload jsonb)
     ), inserted as (
       insert into webhook_inbox (provider, dedupe_key, kind, phone_number_id, tenant_id, payload)
       select ?, dedupe_key, kind, phone_number_id, tenant_id, payload from e
       on conflict (provider, dedupe_key) do nothing
       returning dedupe_key
     )
     select dedupe_key, null as unknown_line from inserted
     union all
     select distinct null, phone_number_id from e where phone_number_id is not null and tenant_id is null`,
    [JSON.stringify(rows), provider],
  );
  const fresh = new Set<string>();
  const unknown = new Set<string>();
  for (const r of result) {
    if (r.dedupe_key !== null) fresh.add(r.dedupe_key);
    else if (r.unknown_line !== null) unknown.add(r.unknown_line);
  }
  return { fresh, unknown };
}

/**
 * The API's way in: the events of webhooks arriving together are stored by one statement (one commit for
 * many webhooks, which is what bounds ingest), each webhook answered once that statement has committed, so
 * an answered webhook is on disk. A batch that fails is written again webhook by webhook (Coalescer), so a
 * webhook is answered 200 only when its own events were stored.
 */
export function inboxWriter(orm: MikroORM, provider: string): (events: LineEvent[]) => Promise<StoredWebhook> {
  const coalescer = new Coalescer<LineEvent[], StoredWebhook>(
    async (webhooks) => {
      const { fresh, unknown } = await insertLineEvents(orm.em.getConnection(), provider, webhooks.flat());
      return webhooks.map((events) => ({
        // A key two webhooks of the batch share was new for the first of them only.
        stored: events.filter((e) => fresh.delete(e.dedupeKey)).length,
        unknownPhoneNumberIds: [...new Set(events.flatMap((e) => (e.phoneNumberId !== null && unknown.has(e.phoneNumberId) ? [e.phoneNumberId] : [])))],
      }));
    },
    // A batch holds every webhook that arrived while the one before was being written; with two in flight the
    // next statement does its work while the last one commits (the commits themselves take turns: PostgreSQL
    // serializes the commits of transactions that NOTIFY, and the insert trigger does).
    { maxBatch: 256, maxInFlight: 2 },
  );
  return (events) => (events.length === 0 ? Promise.resolve({ stored: 0, unknownPhoneNumberIds: [] }) : coalescer.submit(events));
}

export interface InboxStats {
  /** Rows not processed yet, including those waiting for a retry or for a handler to be registered. */
  depth: number;
  /** Age of the oldest of them; 0 when there are none. */
  oldestAgeSec: number;
}

/** For metrics and health: how far behind the dispatcher is. */
export async function inboxStats(em: EntityManager): Promise<InboxStats> {
  const [row] = await em.getConnection().execute<{ depth: string; oldest_age_sec: number | null }[]>(
    `select count(*) as depth, extract(epoch from now() - min(received_at))::float8 as oldest_age_sec
     from webhook_inbox where processed_at is null`,
  );
  return { depth: Number(row.depth), oldestAgeSec: Math.max(0, Math.round(row.oldest_age_sec ?? 0)) };
}
