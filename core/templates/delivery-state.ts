import type { EntityManager } from '@mikro-orm/postgresql';
import type { AttemptOutcome, MessageStatus } from '../db/entities';

/**
 * Where outbound messages stand, for integrators that poll: by our message id or WhatsApp's (wamid), by the
 * customer's phone, by the trigger's sourceRef or campaignId, by template name. Each message comes with its
 * attempts (the fallback engine's audit trail).
 */

export interface DeliveryFilter {
  messageId?: string;
  /** Digits only (Meta's wa_id). */
  contact?: string;
  sourceRef?: string;
  campaignId?: string;
  templateName?: string;
  templatesOnly?: boolean;
  limit: number;
}

export interface AttemptView {
  attemptNo: number;
  /** whatsapp, or sms for the fallback engine's SMS step (phoneNumberId is then the SMS sender). */
  channel: string;
  phoneNumberId: string;
  templateId: string | null;
  templateName: string | null;
  templateLanguage: string | null;
  outcome: AttemptOutcome;
  providerMessageId: string | null;
  errorCode: number | null;
  errorTitle: string | null;
  startedAt: string;
  finishedAt: string | null;
}

export interface DeliveryView {
  messageId: string;
  providerMessageId: string | null;
  phone: string;
  type: string;
  templateName: string | null;
  status: MessageStatus;
  errorCode: number | null;
  errorTitle: string | null;
  sourceRef: string | null;
  campaignId: string | null;
  /** The line it went out from: the successful attempt's, else the conversation's line. */
  phoneNumberId: string | null;
  createdAt: string;
  sentAt: string | null;
  deliveredAt: string | null;
  readAt: string | null;
  failedAt: string | null;
  attempts: AttemptView[];
}

export interface DeliverySummary {
  /** Whether any matching message was accepted by WhatsApp (sent, delivered or read). */
  sent: boolean;
  /** The newest matching message's status; null when nothing matched. */
  status: MessageStatus | null;
  count: number;
  messages: DeliveryView[];
}

interface Row {
  id: string;
  provider_message_id: string | null;
  contact: string;
  type: string;
  template_name: string | null;
  status: MessageStatus;
  error_code: number | null;
  error_title: string | null;
  source_ref: string | null;
  campaign_id: string | null;
  line_phone_number_id: string | null;
  created_at: Date;
  sent_at: Date | null;
  delivered_at: Date | null;
  read_at: Date | null;
  failed_at: Date | null;
}

interface AttemptRow {
  message_id: string;
  attempt_no: number;
  channel: string;
  phone_number_id: string;
  template_id: string | null;
  template_name: string | null;
  template_language: string | null;
  outcome: AttemptOutcome;
  provider_message_id: string | null;
  error_code: number | null;
  error_title: string | null;
  started_at: Date;
  finished_at: Date | null;
}

const iso = (d: Date | null): string | null => (d ? new Date(d).toISOString() : null);
const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Newest first. */
export async function outboundDeliveries(em: EntityManager, tenantId: string, filter: DeliveryFilter): Promise<DeliverySummary> {
  const where = [`m.tenant_id = ?`, `m.direction = 'out'`];
  const args: unknown[] = [tenantId];
  const add = (clause: string, value: unknown) => {
    where.push(clause);
    args.push(value);
  };
  if (filter.messageId) add(uuidShape.test(filter.messageId) ? 'm.id = ?' : 'm.provider_message_id = ?', filter.messageId);
  if (filter.contact) add('c.contact = ?', filter.contact);
  if (filter.sourceRef) add('m.source_ref = ?', filter.sourceRef);
  if (filter.campaignId) add('m.campaign_id = ?', filter.campaignId);
  if (filter.templateName) add('m.template_name = ?', filter.templateName);
  if (filter.templatesOnly) where.push(`m.type = 'template'`);
  const conn = em.getConnection();
  const rows = await conn.execute<Row[]>(
    `select m.id, m.provider_message_id, c.contact, m.type, m.template_name, m.status, m.error_code, m.error_title, m.source_ref, m.campaign_id,
       l.phone_number_id as line_phone_number_id, m.created_at, m.sent_at, m.delivered_at, m.read_at, m.failed_at
     from messages m join conversations c on c.id = m.conversation_id left join whatsapp_lines l on l.id = c.line_id
     where ${where.join(' and ')} order by m.created_at desc, m.id limit ?`,
    [...args, filter.limit],
  );
  const attempts = rows.length
    ? await conn.execute<AttemptRow[]>(
        `select message_id, attempt_no, channel, phone_number_id, template_id, template_name, template_language, outcome, provider_message_id, error_code, error_title,
           started_at, finished_at
         from message_attempts where message_id = any(?::uuid[]) order by message_id, attempt_no`,
        [`{${rows.map((r) => r.id).join(',')}}`],
      )
    : [];
  const messages = rows.map((r): DeliveryView => {
    const own = attempts.filter((a) => a.message_id === r.id);
    return {
      messageId: r.id,
      providerMessageId: r.provider_message_id,
      phone: `+${r.contact}`,
      type: r.type,
      templateName: r.template_name,
      status: r.status,
      errorCode: r.error_code,
      errorTitle: r.error_title,
      sourceRef: r.source_ref,
      campaignId: r.campaign_id,
      phoneNumberId: own.find((a) => a.outcome === 'sent')?.phone_number_id ?? r.line_phone_number_id,
      createdAt: iso(r.created_at)!,
      sentAt: iso(r.sent_at),
      deliveredAt: iso(r.delivered_at),
      readAt: iso(r.read_at),
      failedAt: iso(r.failed_at),
      attempts: own.map((a) => ({
        attemptNo: a.attempt_no,
        channel: a.channel,
        phoneNumberId: a.phone_number_id,
        templateId: a.template_id,
        templateName: a.template_name,
        templateLanguage: a.template_language,
        outcome: a.outcome,
        providerMessageId: a.provider_message_id,
        errorCode: a.error_code,
        errorTitle: a.error_title,
        startedAt: iso(a.started_at)!,
        finishedAt: iso(a.finished_at),
      })),
    };
  });
  return {
    sent: messages.some((m) => m.status === 'sent' || m.status === 'delivered' || m.status === 'read'),
    status: messages[0]?.status ?? null,
    count: messages.length,
    messages,
  };
}
