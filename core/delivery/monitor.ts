import type { EntityManager } from '@mikro-orm/postgresql';
import { windowOpen } from '../conversations/store';
import type { AttemptOutcome, MessageStatus } from '../db/entities';
import { notFound } from '../errors';

/**
 * The delivery monitor's view of outbound messages (GET /api/monitor/delivery): how a window's messages stand,
 * which are stale (no status for a while) or failed and why, each message's audit trail, and whether a manual
 * retry would be taken (core/delivery/retry.ts). `tenantId` undefined is the administrator's view of every tenant.
 */

export const monitorStatuses = ['problems', 'stale', 'failed', 'queued', 'sent', 'delivered', 'read', 'all'] as const;
export type MonitorStatus = (typeof monitorStatuses)[number];

/**
 * - `no_status`: WhatsApp accepted it, and neither delivered, read nor failed came;
 * - `in_doubt`: the send was made and its answer never stored (a crash): WhatsApp may or may not have it;
 * - `not_attempted`: queued and never sent.
 */
export type StaleKind = 'no_status' | 'in_doubt' | 'not_attempted';

export const retryRefusals = ['already_accepted', 'in_progress', 'campaign_settling', 'window_closed', 'line_unavailable', 'opted_out', 'not_resendable'] as const;
export type RetryRefusalReason = (typeof retryRefusals)[number];

export interface MonitorFilter {
  tenantId?: string;
  campaignId?: string;
  lineId?: string;
  errorCode?: number;
  since: Date;
  until?: Date;
  staleAfterMinutes: number;
}

export interface MessageRow {
  id: string;
  tenant_id: string;
  conversation_id: string;
  provider_message_id: string | null;
  contact: string;
  channel: string;
  line_id: string;
  phone_number_id: string | null;
  line_status: string | null;
  campaign_id: string | null;
  source_ref: string | null;
  sent_by: string | null;
  type: string;
  template_name: string | null;
  by_reference: boolean;
  status: MessageStatus;
  stale_kind: StaleKind | null;
  stale_at: Date | null;
  error_code: number | null;
  error_title: string | null;
  attempts: number;
  delivery_round: number;
  idempotency_key: string | null;
  created_at: Date;
  updated_at: Date;
  sent_at: Date | null;
  delivered_at: Date | null;
  read_at: Date | null;
  failed_at: Date | null;
  last_customer_message_at: Date | null;
  recipient_state: string | null;
  opted_out: boolean;
}

export const iso = (d: Date | null): string | null => (d ? new Date(d).toISOString() : null);

/** A validated number of seconds, inlined: the expression appears in several places of one statement. */
const staleExpression = (staleAfterMinutes: number): string => {
  const cutoff = `now() - make_interval(secs => ${(staleAfterMinutes * 60).toFixed(3)})`;
  return `(case when m.status = 'sent' and (m.stale_at is not null or coalesce(m.sent_at, m.updated_at) < ${cutoff}) then 'no_status'
                when m.status = 'queued' and (m.stale_at is not null or m.updated_at < ${cutoff}) then case when m.attempts > 0 then 'in_doubt' else 'not_attempted' end end)`;
};

/** Whether a message row (alias m) is a template send by id or group, whose fallback engine may try another candidate. */
export const byReferenceSql = `(m.template_ref is not null or m.payload->>'templateId' is not null or m.payload->>'templateGroupId' is not null)`;

const selectMessages = (staleAfterMinutes: number) => `
  select m.id, m.tenant_id, m.conversation_id, m.provider_message_id, c.contact, c.channel, c.line_id, l.phone_number_id, l.status as line_status,
    m.campaign_id, m.source_ref, m.sent_by, m.type, m.template_name,
    ${byReferenceSql} as by_reference,
    m.status, ${staleExpression(staleAfterMinutes)} as stale_kind, m.stale_at, m.error_code, m.error_title, m.attempts, m.delivery_round,
    m.idempotency_key, m.created_at, m.updated_at, m.sent_at, m.delivered_at, m.read_at, m.failed_at, c.last_customer_message_at,
    r.state as recipient_state,
    exists (select 1 from contact_opt_outs o where o.tenant_id = m.tenant_id and o.contact = c.contact) as opted_out
  from messages m
  join conversations c on c.id = m.conversation_id
  left join whatsapp_lines l on l.id = c.line_id
  left join lateral (
    select r.state from campaign_recipients r
    where split_part(m.idempotency_key, '/', 1) = 'campaign'
      and r.id = (case when split_part(m.idempotency_key, '/', 3) ~ '^[0-9]+$' then split_part(m.idempotency_key, '/', 3)::bigint end)
  ) r on true`;

/** The where clause of a filter over outbound messages (the status filter aside). */
function whereOf(filter: MonitorFilter): { clauses: string[]; args: unknown[] } {
  const clauses = [`m.direction = 'out'`, `m.created_at >= ?`];
  const args: unknown[] = [filter.since];
  const add = (clause: string, value: unknown) => (clauses.push(clause), args.push(value));
  if (filter.until) add('m.created_at < ?', filter.until);
  if (filter.tenantId) add('m.tenant_id = ?', filter.tenantId);
  if (filter.campaignId) add('m.campaign_id = ?', filter.campaignId);
  if (filter.lineId) add('c.line_id = ?', filter.lineId);
  if (filter.errorCode !== undefined) add('m.error_code = ?', filter.errorCode);
  return { clauses, args };
}

function statusClause(status: MonitorStatus, staleAfterMinutes: number): { clause?: string; args: unknown[] } {
  const stale = `${staleExpression(staleAfterMinutes)} is not null`;
  switch (status) {
    case 'all':
      return { args: [] };
    case 'problems':
      return { clause: `(m.status = 'failed' or ${stale})`, args: [] };
    case 'stale':
      return { clause: stale, args: [] };
    default:
      return { clause: 'm.status = ?', args: [status] };
  }
}

/** Outbound messages matching the filter, newest first (or oldest first). */
export async function findMessages(
  em: EntityManager,
  filter: MonitorFilter & { status: MonitorStatus; limit: number; offset?: number; oldestFirst?: boolean },
): Promise<{ rows: MessageRow[]; total: number }> {
  const { clauses, args } = whereOf(filter);
  const status = statusClause(filter.status, filter.staleAfterMinutes);
  if (status.clause) clauses.push(status.clause);
  const where = clauses.join(' and ');
  const all = [...args, ...status.args];
  const conn = em.getConnection();
  const rows = await conn.execute<MessageRow[]>(
    `${selectMessages(filter.staleAfterMinutes)} where ${where} order by m.created_at ${filter.oldestFirst ? 'asc' : 'desc'}, m.id limit ? offset ?`,
    [...all, filter.limit, filter.offset ?? 0],
  );
  const [{ count }] = await conn.execute<Array<{ count: string }>>(
    `select count(*) from messages m join conversations c on c.id = m.conversation_id where ${where}`,
    all,
  );
  return { rows, total: Number(count) };
}

/** One outbound message of the tenant (any tenant's for the administrator's undefined); 404 otherwise. */
export async function findMessage(em: EntityManager, tenantId: string | undefined, messageId: string, staleAfterMinutes: number): Promise<MessageRow> {
  const [row] = await em
    .getConnection()
    .execute<MessageRow[]>(`${selectMessages(staleAfterMinutes)} where m.id = ? and m.direction = 'out' ${tenantId ? 'and m.tenant_id = ?' : ''}`, [
      messageId,
      ...(tenantId ? [tenantId] : []),
    ]);
  if (!row) throw notFound('Message');
  return row;
}

const refusalText: Record<RetryRefusalReason, string> = {
  already_accepted: 'WhatsApp accepted it: a message WhatsApp accepted is never sent again',
  in_progress: 'It is being sent now: retry it once it failed or went stale',
  campaign_settling: 'Its campaign is still settling this send and will send it itself if it has to',
  window_closed: 'The 24-hour window is closed: only a template can be sent now',
  line_unavailable: 'Its line cannot send',
  opted_out: 'The recipient opted out of campaigns',
  not_resendable: 'It has no send key to send it again with',
};

/** Why a manual retry of this message would be refused; null when it would be taken. */
export function retryRefusal(m: MessageRow, now = Date.now()): { reason: RetryRefusalReason; message: string } | null {
  const refuse = (reason: RetryRefusalReason, detail?: string) => ({ reason, message: detail ? `${refusalText[reason]} (${detail})` : refusalText[reason] });
  if (m.status === 'sent' || m.status === 'delivered' || m.status === 'read') return refuse('already_accepted', `status ${m.status}`);
  if (m.status === 'queued' && !m.stale_kind) return refuse('in_progress');
  if (!m.idempotency_key) return refuse('not_resendable');
  if (m.recipient_state === 'pending' || m.recipient_state === 'sending' || m.recipient_state === 'in_doubt') return refuse('campaign_settling');
  if (m.sent_by === 'campaign' && m.opted_out) return refuse('opted_out');
  if (m.type !== 'template' && !windowOpen(m.last_customer_message_at, now)) return refuse('window_closed');
  // A template send by id or group may go out on the group's other line (the fallback engine decides).
  if (!m.by_reference && m.line_status !== 'active') return refuse('line_unavailable', m.line_status ? `the line is ${m.line_status}` : 'the line no longer exists');
  return null;
}

export interface MonitorItem {
  messageId: string;
  tenantId: string;
  conversationId: string;
  providerMessageId: string | null;
  phone: string;
  lineId: string;
  phoneNumberId: string | null;
  campaignId: string | null;
  sourceRef: string | null;
  sentBy: string | null;
  type: string;
  templateName: string | null;
  status: MessageStatus;
  stale: StaleKind | null;
  staleMarkedAt: string | null;
  errorCode: number | null;
  errorTitle: string | null;
  attempts: number;
  round: number;
  createdAt: string;
  updatedAt: string;
  sentAt: string | null;
  deliveredAt: string | null;
  readAt: string | null;
  failedAt: string | null;
  retry: { allowed: boolean; reason: RetryRefusalReason | null; message: string | null };
}

export function presentMessage(m: MessageRow): MonitorItem {
  const refusal = retryRefusal(m);
  return {
    messageId: m.id,
    tenantId: m.tenant_id,
    conversationId: m.conversation_id,
    providerMessageId: m.provider_message_id,
    phone: `+${m.contact}`,
    lineId: m.line_id,
    phoneNumberId: m.phone_number_id,
    campaignId: m.campaign_id,
    sourceRef: m.source_ref,
    sentBy: m.sent_by,
    type: m.type,
    templateName: m.template_name,
    status: m.status,
    stale: m.stale_kind,
    staleMarkedAt: iso(m.stale_at),
    errorCode: m.error_code,
    errorTitle: m.error_title,
    attempts: m.attempts,
    round: m.delivery_round,
    createdAt: iso(m.created_at)!,
    updatedAt: iso(m.updated_at)!,
    sentAt: iso(m.sent_at),
    deliveredAt: iso(m.delivered_at),
    readAt: iso(m.read_at),
    failedAt: iso(m.failed_at),
    retry: { allowed: !refusal, reason: refusal?.reason ?? null, message: refusal?.message ?? null },
  };
}

export interface DeliveryHealth {
  total: number;
  queued: number;
  sent: number;
  delivered: number;
  read: number;
  failed: number;
  stale: number;
  /** The commonest failure causes of the window. */
  failuresByCode: Array<{ errorCode: number | null; errorTitle: string | null; count: number }>;
}

/** Counts by status over the filter's window, stale ones, and the commonest failure codes. */
export async function deliveryHealth(em: EntityManager, filter: MonitorFilter): Promise<DeliveryHealth> {
  const { clauses, args } = whereOf(filter);
  const where = clauses.join(' and ');
  const from = `from messages m join conversations c on c.id = m.conversation_id where ${where}`;
  const conn = em.getConnection();
  const [counts] = await conn.execute<Array<Record<'total' | 'queued' | 'sent' | 'delivered' | 'read' | 'failed' | 'stale', string>>>(
    `select count(*) as total,
       count(*) filter (where m.status = 'queued') as queued, count(*) filter (where m.status = 'sent') as sent,
       count(*) filter (where m.status = 'delivered') as delivered, count(*) filter (where m.status = 'read') as read,
       count(*) filter (where m.status = 'failed') as failed,
       count(*) filter (where ${staleExpression(filter.staleAfterMinutes)} is not null) as stale
     ${from}`,
    args,
  );
  const failures = await conn.execute<Array<{ error_code: number | null; error_title: string | null; count: string }>>(
    `select m.error_code, min(m.error_title) as error_title, count(*) as count ${from} and m.status = 'failed'
     group by m.error_code order by count(*) desc, m.error_code limit 10`,
    args,
  );
  const n = (k: keyof typeof counts) => Number(counts[k]);
  return {
    total: n('total'),
    queued: n('queued'),
    sent: n('sent'),
    delivered: n('delivered'),
    read: n('read'),
    failed: n('failed'),
    stale: n('stale'),
    failuresByCode: failures.map((f) => ({ errorCode: f.error_code, errorTitle: f.error_title, count: Number(f.count) })),
  };
}

export interface AuditEvent {
  at: string;
  event: 'queued' | 'attempt' | 'retry_requested' | 'sent' | 'delivered' | 'read' | 'failed' | 'marked_stale';
  round: number;
  detail: string | null;
  attemptNo?: number;
  outcome?: AttemptOutcome | 'queued' | 'refused';
  /** Attempts: whatsapp, or sms for the fallback engine's SMS step. */
  channel?: string;
  phoneNumberId?: string;
  templateName?: string | null;
  providerMessageId?: string | null;
  errorCode?: number | null;
  finishedAt?: string | null;
  requestedBy?: string | null;
}

interface AttemptRow {
  attempt_no: number;
  round: number;
  channel: string;
  phone_number_id: string;
  template_name: string | null;
  template_language: string | null;
  outcome: AttemptOutcome;
  provider_message_id: string | null;
  error_code: number | null;
  error_title: string | null;
  tries: number;
  started_at: Date;
  finished_at: Date | null;
}

interface RetryRow {
  round: number;
  requested_by: string | null;
  username: string | null;
  requested_at: Date;
  outcome: 'queued' | 'sent' | 'failed' | 'refused';
  detail: string | null;
  finished_at: Date | null;
}

/**
 * A message's history in time order: queued, each attempt of each round (a template fallback's candidates,
 * a manual retry's sends, with their provider ids and errors), each retry request and who made it, and the
 * statuses of the current round.
 */
export async function deliveryAudit(em: EntityManager, tenantId: string | undefined, messageId: string, staleAfterMinutes: number) {
  const m = await findMessage(em, tenantId, messageId, staleAfterMinutes);
  const conn = em.getConnection();
  const attempts = await conn.execute<AttemptRow[]>(
    `select attempt_no, round, channel, phone_number_id, template_name, template_language, outcome, provider_message_id, error_code, error_title, tries, started_at, finished_at
     from message_attempts where message_id = ? order by attempt_no`,
    [m.id],
  );
  const retries = await conn.execute<RetryRow[]>(
    `select r.round, r.requested_by, u.username, r.requested_at, r.outcome, r.detail, r.finished_at
     from message_retries r left join users u on u.id = r.requested_by where r.message_id = ? order by r.round`,
    [m.id],
  );
  const round = m.delivery_round;
  const trail: AuditEvent[] = [
    { at: iso(m.created_at)!, event: 'queued' as const, round: 0, detail: null },
    ...attempts.map(
      (a): AuditEvent => ({
        at: iso(a.started_at)!,
        event: 'attempt',
        round: a.round,
        attemptNo: a.attempt_no,
        outcome: a.outcome,
        channel: a.channel,
        phoneNumberId: a.phone_number_id,
        templateName: a.template_name,
        providerMessageId: a.provider_message_id,
        errorCode: a.error_code,
        detail: a.error_title,
        finishedAt: iso(a.finished_at),
      }),
    ),
    ...retries.map(
      (r): AuditEvent => ({
        at: iso(r.requested_at)!,
        event: 'retry_requested',
        round: r.round,
        outcome: r.outcome,
        requestedBy: r.username ?? r.requested_by,
        detail: r.detail,
        finishedAt: iso(r.finished_at),
      }),
    ),
    ...(
      [
        ['sent', m.sent_at, m.provider_message_id],
        ['delivered', m.delivered_at, null],
        ['read', m.read_at, null],
        ['failed', m.failed_at, m.error_title],
        ['marked_stale', m.stale_at, null],
      ] as const
    )
      .filter(([, at]) => at)
      .map(
        ([event, at, detail]): AuditEvent => ({
          at: iso(at)!,
          event,
          round,
          detail: event === 'sent' ? null : detail,
          ...(event === 'sent' ? { providerMessageId: detail } : {}),
          ...(event === 'failed' ? { errorCode: m.error_code } : {}),
        }),
      ),
  ].sort((a, b) => a.at.localeCompare(b.at));
  return {
    message: presentMessage(m),
    attempts: attempts.map((a) => ({
      attemptNo: a.attempt_no,
      round: a.round,
      channel: a.channel,
      phoneNumberId: a.phone_number_id,
      templateName: a.template_name,
      templateLanguage: a.template_language,
      outcome: a.outcome,
      providerMessageId: a.provider_message_id,
      errorCode: a.error_code,
      errorTitle: a.error_title,
      tries: a.tries,
      startedAt: iso(a.started_at)!,
      finishedAt: iso(a.finished_at),
    })),
    retries: retries.map((r) => ({
      round: r.round,
      requestedBy: r.username ?? r.requested_by,
      requestedAt: iso(r.requested_at)!,
      outcome: r.outcome,
      detail: r.detail,
      finishedAt: iso(r.finished_at),
    })),
    trail,
  };
}
