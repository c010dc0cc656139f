import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';

/**
 * What changed in the tenants someone is watching: new messages and their delivery ticks, and conversations
 * (claimed, released, closed, moved to another node). One loop per API process asks PostgreSQL about once a
 * second, for every listening tenant at once, which rows' `updated_at` moved past its last look, and hands each
 * tenant's changes to that tenant's listeners.
 *
 * Why a query loop rather than LISTEN/NOTIFY: the writers (the webhook dispatcher, the send activities, the
 * campaign pages, in any number of worker processes) already stamp `updated_at`, so nothing on the write path
 * changes; a NOTIFY per status update would take PostgreSQL's commit-time notification lock on the busiest path
 * there is (three status webhooks per message at campaign speed) for the benefit of a few open browser tabs.
 * The loop costs one indexed query per second per API process while anyone listens, and none otherwise;
 * up to a second of delay is fine for an inbox.
 */

export interface MessageChange {
  kind: 'message';
  id: string;
  conversationId: string;
  direction: 'in' | 'out';
  status: string;
  campaignId: string | null;
  updatedAt: string;
}

export interface ConversationChange {
  kind: 'conversation';
  id: string;
  status: string;
  currentNode: string | null;
  updatedAt: string;
}

export type Change = MessageChange | ConversationChange;

/** One tenant's changes from one look. `truncated`: more changed than `maxPerTick`; reload rather than patch. */
export interface ChangeBatch {
  changes: Change[];
  truncated: boolean;
}

export type ChangeListener = (batch: ChangeBatch) => void;

export interface ChangeFeedOptions {
  intervalMs?: number;
  /**
   * How far back each look reaches before the previous one: `updated_at` is its transaction's start, so a row
   * written by a transaction that began before a look and committed after it is still seen by the next.
   */
  overlapMs?: number;
  /** Per tenant and look, of messages and of conversations each. */
  maxPerTick?: number;
}

interface MessageRow {
  tenant_id: string;
  id: string;
  conversation_id: string;
  direction: 'in' | 'out';
  status: string;
  campaign_id: string | null;
  updated_at: Date;
}
interface ConversationRow {
  tenant_id: string;
  id: string;
  status: string;
  current_node: string | null;
  updated_at: Date;
}

export class ChangeFeed {
  private readonly listeners = new Map<string, Set<ChangeListener>>();
  private readonly intervalMs: number;
  private readonly overlapMs: number;
  private readonly maxPerTick: number;
  private timer: NodeJS.Timeout | undefined;
  /** The database's clock at the previous look; undefined until the loop has looked once. */
  private cursor: Date | undefined;
  /** Changes already handed out within the overlap window (`kind:id@updatedAt` → its time), so none twice. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly orm: MikroORM,
    private readonly logger: Logger,
    opts: ChangeFeedOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 1000;
    this.overlapMs = opts.overlapMs ?? 2000;
    this.maxPerTick = opts.maxPerTick ?? 200;
  }

  /** Starts listening to a tenant's changes from now on; the returned function stops. */
  subscribe(tenantId: string, listener: ChangeListener): () => void {
    let set = this.listeners.get(tenantId);
    if (!set) this.listeners.set(tenantId, (set = new Set()));
    set.add(listener);
    if (!this.timer) this.schedule(0);
    return () => {
      const current = this.listeners.get(tenantId);
      current?.delete(listener);
      if (current?.size === 0) this.listeners.delete(tenantId);
    };
  }

  get listening(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => void this.tick(), delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const tenants = [...this.listeners.keys()];
    if (tenants.length === 0) {
      // Nobody listens: stop asking. The next subscriber starts from its own moment, not from a stale cursor.
      this.timer = undefined;
      this.cursor = undefined;
      this.seen.clear();
      return;
    }
    try {
      await this.look(tenants);
    } catch (err) {
      this.logger.warn({ err }, 'change feed: could not read changes; trying again');
    }
    this.schedule(this.intervalMs);
  }

  private async look(tenants: string[]): Promise<void> {
    const conn = this.orm.em.getConnection();
    const [{ now }] = await conn.execute<Array<{ now: Date }>>(`select statement_timestamp() as now`);
    // The first look after a quiet spell reaches back one overlap too: a change made just as someone subscribed.
    const since = new Date((this.cursor ?? new Date(now)).getTime() - this.overlapMs);
    const ids = tenants.join(',');
    const limit = this.maxPerTick + 1;
    const [messages, conversations] = await Promise.all([
      conn.execute<MessageRow[]>(
        `select t.tenant_id, m.id, m.conversation_id, m.direction, m.status, m.campaign_id, m.updated_at
         from unnest(string_to_array(?, ',')::uuid[]) as t(tenant_id)
         cross join lateral (
           select id, conversation_id, direction, status, campaign_id, updated_at from messages
           where tenant_id = t.tenant_id and updated_at > ? order by updated_at limit ?) m`,
        [ids, since, limit],
      ),
      conn.execute<ConversationRow[]>(
        `select t.tenant_id, c.id, c.status, c.current_node, c.updated_at
         from unnest(string_to_array(?, ',')::uuid[]) as t(tenant_id)
         cross join lateral (
           select id, status, current_node, updated_at from conversations
           where tenant_id = t.tenant_id and updated_at > ? order by updated_at limit ?) c`,
        [ids, since, limit],
      ),
    ]);
    this.cursor = new Date(now);
    for (const [key, at] of this.seen) if (at <= since.getTime()) this.seen.delete(key);

    const batches = new Map<string, ChangeBatch>();
    const batchOf = (tenantId: string) => {
      let batch = batches.get(tenantId);
      if (!batch) batches.set(tenantId, (batch = { changes: [], truncated: false }));
      return batch;
    };
    const fresh = (kind: string, id: string, updatedAt: Date): boolean => {
      const key = `${kind}:${id}@${updatedAt.getTime()}`;
      if (this.seen.has(key)) return false;
      this.seen.set(key, updatedAt.getTime());
      return true;
    };
    const count = (rows: Array<{ tenant_id: string }>) => rows.reduce((m, r) => m.set(r.tenant_id, (m.get(r.tenant_id) ?? 0) + 1), new Map<string, number>());
    const messageCounts = count(messages);
    const conversationCounts = count(conversations);
    for (const r of messages) {
      const updatedAt = new Date(r.updated_at);
      if (!fresh('message', r.id, updatedAt)) continue;
      const batch = batchOf(r.tenant_id);
      if ((messageCounts.get(r.tenant_id) ?? 0) > this.maxPerTick) batch.truncated = true;
      else {
        batch.changes.push({
          kind: 'message',
          id: r.id,
          conversationId: r.conversation_id,
          direction: r.direction,
          status: r.status,
          campaignId: r.campaign_id,
          updatedAt: updatedAt.toISOString(),
        });
      }
    }
    for (const r of conversations) {
      const updatedAt = new Date(r.updated_at);
      if (!fresh('conversation', r.id, updatedAt)) continue;
      const batch = batchOf(r.tenant_id);
      if ((conversationCounts.get(r.tenant_id) ?? 0) > this.maxPerTick) batch.truncated = true;
      else batch.changes.push({ kind: 'conversation', id: r.id, status: r.status, currentNode: r.current_node, updatedAt: updatedAt.toISOString() });
    }
    for (const [tenantId, batch] of batches) {
      for (const listener of this.listeners.get(tenantId) ?? []) {
        try {
          listener(batch);
        } catch (err) {
          this.logger.warn({ err, tenantId }, 'change feed: a listener failed');
        }
      }
    }
  }
}
