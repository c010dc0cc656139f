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
 * The API's way in: the events of webhooks arriving together are stored by shared statements (one commit
 * for many webhooks, which is what bounds ingest), each webhook answered once its own events are committed.
 * Resolves to how many of the webhook's events were new.
 */
export function inboxWriter(orm: MikroORM, provider: string): (events: InboxEvent[]) => Promise<number> {
  const coalescer = new Coalescer<InboxEvent[], number>(
    async (webhooks) => {
      const fresh = await insertNew(orm.em.getConnection(), provider, webhooks.flat());
      // A key two webhooks of the batch share was new for the first of them only.
      return webhooks.map((events) => events.filter((e) => fresh.delete(e.dedupeKey)).length);
    },
    { maxBatch: 64, maxInFlight: 2 },
  );
  return (events) => (events.length === 0 ? Promise.resolve(0) : coalescer.submit(events));
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
