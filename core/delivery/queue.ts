import type { EntityManager } from '@mikro-orm/postgresql';
import { iso } from './monitor';

/**
 * The outbound queue (GET /api/webhook/queue-logs): every outbound message row (each send is a row before it
 * is sent), and the campaign recipients not yet turned into one, newest first.
 *
 * - `waiting`: a campaign recipient whose turn has not come (or whose retry is not due);
 * - `queued`: a message not sent yet; `sending`: sent, its answer not stored yet (or in doubt after a crash);
 * - `sent`, `delivered`, `read`, `failed`: as WhatsApp reported;
 * - `skipped`: a campaign recipient who opted out, or whose campaign was cancelled.
 */

export const queueStates = ['waiting', 'queued', 'sending', 'sent', 'delivered', 'read', 'failed', 'skipped'] as const;
export type QueueState = (typeof queueStates)[number];

export interface QueueFilter {
  /** Undefined: every tenant (administrators). */
  tenantId?: string;
  state?: QueueState;
  campaignId?: string;
  lineId?: string;
  phoneNumberId?: string;
  limit: number;
  offset: number;
}

interface EntryRow {
  kind: 'message' | 'campaign_recipient';
  id: string;
  message_id: string | null;
  tenant_id: string;
  state: QueueState;
  campaign_id: string | null;
  line_id: string | null;
  phone_number_id: string | null;
  contact: string;
  type: string;
  template_name: string | null;
  attempts: number;
  error_code: number | null;
  error: string | null;
  sent_by: string | null;
  source_ref: string | null;
  queued_at: Date;
  updated_at: Date;
  not_before: Date | null;
}

export interface QueueEntry {
  kind: 'message' | 'campaign_recipient';
  id: string;
  messageId: string | null;
  tenantId: string;
  state: QueueState;
  campaignId: string | null;
  lineId: string | null;
  phoneNumberId: string | null;
  phone: string;
  type: string;
  templateName: string | null;
  attempts: number;
  errorCode: number | null;
  error: string | null;
  sentBy: string | null;
  sourceRef: string | null;
  queuedAt: string;
  updatedAt: string;
  notBefore: string | null;
}

export async function outboundQueue(em: EntityManager, filter: QueueFilter): Promise<{ entries: QueueEntry[]; total: number }> {
  const tenant = (column: string) => (filter.tenantId ? `and ${column} = ?` : '');
  const tenantArgs = filter.tenantId ? [filter.tenantId] : [];
  const union = `
    select 'message' as kind, m.id::text as id, m.id as message_id, m.tenant_id,
      case when m.status = 'queued' and m.attempts > 0 then 'sending' else m.status end as state,
      m.campaign_id, c.line_id, l.phone_number_id, c.contact, m.type, m.template_name, m.attempts, m.error_code, m.error_title as error,
      m.sent_by, m.source_ref, m.created_at as queued_at, m.updated_at, null::timestamptz as not_before
    from messages m join conversations c on c.id = m.conversation_id left join whatsapp_lines l on l.id = c.line_id
    where m.direction = 'out' ${tenant('m.tenant_id')}
    union all
    select 'campaign_recipient', r.id::text, null, r.tenant_id,
      case r.state when 'pending' then 'waiting' when 'in_doubt' then 'sending' else r.state end,
      r.campaign_id::text, cp.line_id, l.phone_number_id, r.contact, 'template', cp.message->>'name', r.attempts, null, coalesce(r.last_error, r.skip_reason),
      'campaign', cp.source_ref, cp.created_at, r.updated_at, r.not_before
    from campaign_recipients r join campaigns cp on cp.id = r.campaign_id left join whatsapp_lines l on l.id = cp.line_id
    where not exists (select 1 from messages m where m.idempotency_key = 'campaign/' || r.campaign_id || '/' || r.id) ${tenant('r.tenant_id')}`;
  const where: string[] = [];
  const args: unknown[] = [...tenantArgs, ...tenantArgs];
  const add = (clause: string, value: unknown) => (where.push(clause), args.push(value));
  if (filter.state) add('q.state = ?', filter.state);
  if (filter.campaignId) add('q.campaign_id = ?', filter.campaignId);
  if (filter.lineId) add('q.line_id = ?', filter.lineId);
  if (filter.phoneNumberId) add('q.phone_number_id = ?', filter.phoneNumberId);
  const clause = where.length ? `where ${where.join(' and ')}` : '';
  const conn = em.getConnection();
  const rows = await conn.execute<EntryRow[]>(`select * from (${union}) q ${clause} order by q.queued_at desc, q.updated_at desc, q.id desc limit ? offset ?`, [
    ...args,
    filter.limit,
    filter.offset,
  ]);
  const [{ count }] = await conn.execute<Array<{ count: string }>>(`select count(*) from (${union}) q ${clause}`, args);
  return {
    entries: rows.map((r) => ({
      kind: r.kind,
      id: r.id,
      messageId: r.message_id,
      tenantId: r.tenant_id,
      state: r.state,
      campaignId: r.campaign_id,
      lineId: r.line_id,
      phoneNumberId: r.phone_number_id,
      phone: `+${r.contact}`,
      type: r.type,
      templateName: r.template_name,
      attempts: r.attempts,
      errorCode: r.error_code,
      error: r.error,
      sentBy: r.sent_by,
      sourceRef: r.source_ref,
      queuedAt: iso(r.queued_at)!,
      updatedAt: iso(r.updated_at)!,
      notBefore: iso(r.not_before),
    })),
    total: Number(count),
  };
}
