import type { MikroORM } from '@mikro-orm/postgresql';
import { ApplicationFailure } from '@temporalio/common';
import { ChannelSendError, LineBusyError, toActivityFailure } from '../../core/channels/errors';
import type { OutboundMessage as ChannelMessage, TemplateMessage } from '../../core/channels/outbound';
import { decryptedAccessToken, markLineNeedsReauth } from '../../core/channels/lines';
import { upsertConversation, windowOpen } from '../../core/conversations/store';
import type { SecretBox } from '../../core/crypto/secret-box';
import type { SendCounter } from '../../core/metrics/registry';
import { WhatsAppLine } from '../../core/db/entities';
import { insertOrSelect, sqlOf } from '../../core/db/sql';
import { newId } from '../../core/ids';
import { LINE_BUSY } from '../../core/journey/local-send';
import { isTemplateReference } from '../../core/journey/template-reference';
import type { OutboundMessage, OutboundSend } from '../../core/journey/types';
import type { WhatsAppClient } from '../channels/whatsapp';
import { awaitProviderWord, inDoubtFailure, stillInDoubt } from './in-doubt';
import { sendWithTemplateFallback, type TemplateFallbackSend } from './templates';

/** Our intent-level message → the channel's message shape. */
export function toChannelMessage(m: OutboundMessage): ChannelMessage {
  switch (m.type) {
    case 'text':
      return { type: 'text', body: m.text, previewUrl: m.previewUrl };
    case 'media':
      return { type: m.mediaType, link: m.url, caption: m.caption || undefined, filename: m.mediaType === 'document' ? m.filename : undefined };
    case 'template':
      if (!m.name) throw ApplicationFailure.nonRetryable('A template send needs a template name, a template id or a template group id', 'invalid_message');
      return { type: 'template', name: m.name, language: m.language, params: m.params.length ? m.params : undefined };
    case 'buttons':
      return { type: 'buttons', body: m.text, buttons: m.buttons };
    case 'list':
      return { type: 'list', body: m.text, buttonText: m.buttonLabel, sections: [{ rows: m.rows }] };
  }
}

export const previewOf = (m: OutboundMessage): string =>
  m.type === 'text' || m.type === 'buttons' || m.type === 'list' ? m.text : m.type === 'media' ? (m.caption ?? `[${m.mediaType}]`) : `[template ${m.name ?? m.templateId ?? m.templateGroupId}]`;

interface MessageRow {
  id: string;
  status: string;
  provider_message_id: string | null;
  error_code: number | null;
  error_title: string | null;
  /** How long ago the latest provider call was made, while its outcome is not stored (null otherwise). */
  unsettled_ms: number | null;
}

/**
 * Sends one message, at most once per idempotency key: the row is written first, and a retry that finds
 * the row already accepted by the provider returns it instead of sending again.
 */
export function sendMessageActivity(deps: {
  orm: MikroORM;
  box: SecretBox;
  whatsapp: WhatsAppClient;
  sends?: SendCounter;
  /** For the SMS fallback, whose provider URL the account chose. */
  tenantFetch: typeof fetch;
}) {
  return async function sendMessage(input: OutboundSend): Promise<{ messageId: string; providerMessageId: string | null }> {
    const em = deps.orm.em.fork();
    const conn = em.getConnection();
    const ownLine = await em.findOne(WhatsAppLine, { id: input.key.lineId, tenantId: input.key.tenantId });
    if (!ownLine) throw ApplicationFailure.nonRetryable(`line ${input.key.lineId} does not exist`, 'line_missing');
    const conversation = await upsertConversation(em, input.key);
    // The customer last wrote to another line of ours for this conversation (they answered a fallback send from
    // it): Meta's window is open on that number, not on the conversation's own, so the message goes from there.
    const replyLine = conversation.replyLineId ? await em.findOne(WhatsAppLine, { id: conversation.replyLineId, tenantId: input.key.tenantId }) : null;
    const line = replyLine?.status === 'active' ? replyLine : ownLine;
    // A template by id or group is resolved when it is sent; until then the row holds the reference.
    const reference = isTemplateReference(input.message) ? input.message : undefined;
    const payload = reference ? undefined : toChannelMessage(input.message);
    const stored = payload ?? reference!;
    const text = previewOf(input.message);
    // The row this key wrote, whether now or on an earlier attempt.
    const row = (await insertOrSelect<MessageRow>(sqlOf(em), {
      insert: `insert into messages (id, tenant_id, conversation_id, direction, type, text, payload, status, idempotency_key, journey_node, sent_by,
         source_ref, campaign_id, template_name, template_ref)
       values (?, ?, ?, 'out', ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?) on conflict (idempotency_key) do nothing`,
      insertParams: [
        newId(), input.key.tenantId, conversation.id, stored.type, text, JSON.stringify(stored), input.idempotencyKey, input.nodeId ?? null,
        input.sentBy ?? (input.nodeId ? 'bot' : 'agent'), input.sourceRef ?? null, input.campaignId ?? null, stored.type === 'template' ? (stored.name ?? null) : null,
        // Kept after the send resolved it: a late failure or a retry runs the fallback engine on the same group again.
        reference ? JSON.stringify(reference) : null,
      ],
      returning: 'id, status, provider_message_id, error_code, error_title, null::float8 as unsettled_ms',
      select: `select ${messageColumns} from messages where idempotency_key = ?`,
      selectParams: [input.idempotencyKey],
    }))!;
    const count = (outcome: string) => deps.sends?.inc({ channel: 'whatsapp', line: line.phoneNumberId, outcome });
    if (row.provider_message_id) {
      count('duplicate');
      return { messageId: row.id, providerMessageId: row.provider_message_id };
    }
    if (row.status === 'failed') throw ApplicationFailure.nonRetryable(`${row.error_title} (code ${row.error_code})`, 'send_failed');
    // Campaign sends settle this per recipient instead (core/campaigns/unsettled.ts).
    if (!input.campaignId && row.unsettled_ms !== null) {
      const settled = await awaitProviderWord(row, {
        doubtMs: (r) => r.unsettled_ms,
        settled: (r) => Boolean(r.provider_message_id) || r.status === 'failed',
        reload: async () => (await conn.execute<MessageRow[]>(`select ${messageColumns} from messages where id = ?`, [row.id]))[0],
      });
      if (settled.provider_message_id) {
        count('duplicate');
        return { messageId: row.id, providerMessageId: settled.provider_message_id };
      }
      if (settled.status === 'failed') throw ApplicationFailure.nonRetryable(`${settled.error_title} (code ${settled.error_code})`, 'send_failed');
      if (stillInDoubt(settled.unsettled_ms)) throw inDoubtFailure('message');
    }

    if (stored.type !== 'template' && !windowOpen(conversation.lastCustomerMessageAt)) {
      await markFailed(conn, row.id, 131047, 'The 24-hour window is closed: send an approved template instead');
      count('window_closed');
      throw ApplicationFailure.nonRetryable('The 24-hour customer-service window is closed: only an approved template can be sent', 'window_closed');
    }
    if (!payload) {
      const send = { em, messageId: row.id, tenantId: input.key.tenantId, to: input.key.contact, sendingLine: line, message: reference! };
      return sendByReference(deps, send, conversation.id, count);
    }
    if (line.status !== 'active') {
      await markFailed(conn, row.id, 0, `The line is ${line.status}`);
      throw ApplicationFailure.nonRetryable(`line ${line.displayPhoneNumber} is ${line.status}`, 'line_unavailable');
    }

    try {
      const sent = await deps.whatsapp.sendMessage({
        phoneNumberId: line.phoneNumberId,
        accessToken: decryptedAccessToken(line, deps.box),
        to: input.key.contact,
        message: payload,
        idempotencyKey: row.id,
        // Counted when the call is made (after the line's governor gave it a slot): attempts > 0 without a
        // provider id is a send whose outcome a crash may have hidden; unsettled_call_at stays set until the
        // outcome is stored.
        beforeSend: async () => void (await conn.execute(`update messages set attempts = attempts + 1, unsettled_call_at = now() where id = ?`, [row.id])),
        maxWaitMs: input.maxLineWaitMs,
      });
      await recordSent(conn, { id: row.id, conversationId: conversation.id, wamid: sent.wamid, text, lineId: line.id });
      count('sent');
      return { messageId: row.id, providerMessageId: sent.wamid };
    } catch (err) {
      // Refused before any call: the row stays queued, and the (remote) activity the journey hands it to sends it.
      if (err instanceof LineBusyError) throw ApplicationFailure.nonRetryable(err.message, LINE_BUSY);
      if (!(err instanceof ChannelSendError)) throw err;
      // Retryable errors keep the provider's hint (e.g. 130429: wait a second) as the next retry delay.
      if (!err.retryable) {
        await markFailed(conn, row.id, err.code ?? 0, err.message);
        if (err.errorClass === 'credentials' || err.errorClass === 'account') await markLineNeedsReauth(em, line.id);
      } else if (!err.maybeSent) {
        // Refused (5xx, rate limit): the message did not go out, and the retry may send it without a doubt.
        await conn.execute(`update messages set unsettled_call_at = null where id = ?`, [row.id]);
      }
      count(err.errorClass);
      throw toActivityFailure(err);
    }
  };
}

const messageColumns = `id, status, provider_message_id, error_code, error_title,
  (extract(epoch from now() - unsettled_call_at) * 1000)::float8 as unsettled_ms`;

/** A template by id or group goes through the fallback engine; the row then says which template went out. */
async function sendByReference(
  deps: { whatsapp: WhatsAppClient; box: SecretBox; tenantFetch: typeof fetch },
  send: TemplateFallbackSend,
  conversationId: string,
  count: (outcome: string) => void,
): Promise<{ messageId: string; providerMessageId: string }> {
  const conn = send.em.getConnection();
  try {
    const { wamid, sent } = await sendWithTemplateFallback(deps, send);
    await recordSent(conn, { id: send.messageId, conversationId, wamid, text: `[template ${sent.name}]`, sent });
    count('sent');
    return { messageId: send.messageId, providerMessageId: wamid };
  } catch (err) {
    if (!(err instanceof ChannelSendError)) throw err;
    if (!err.retryable) await markFailed(conn, send.messageId, err.code ?? 0, err.message);
    count(err.errorClass);
    throw toActivityFailure(err);
  }
}

/** A status webhook may have arrived first and moved the row on; only a queued row becomes 'sent'. */
async function recordSent(
  conn: ReturnType<MikroORM['em']['getConnection']>,
  m: { id: string; conversationId: string; wamid: string; text: string; sent?: TemplateMessage; lineId?: string },
): Promise<void> {
  await conn.execute(
    `with sent as (
       update messages set provider_message_id = ?, status = case when status = 'queued' then 'sent' else status end, sent_at = coalesce(sent_at, now()),
         unsettled_call_at = null, text = ?, payload = coalesce(?::jsonb, payload), template_name = coalesce(?, template_name),
         sent_line_id = coalesce(?::uuid, sent_line_id), updated_at = now()
       where id = ?)
     update conversations set last_message = ?, last_message_at = now(), updated_at = now() where id = ?`,
    [m.wamid, m.text, m.sent ? JSON.stringify(m.sent) : null, m.sent?.name ?? null, m.lineId ?? null, m.id, m.text.slice(0, 500), m.conversationId],
  );
}

async function markFailed(conn: ReturnType<MikroORM['em']['getConnection']>, id: string, code: number, title: string): Promise<void> {
  await conn.execute(`update messages set status = 'failed', error_code = ?, error_title = ?, failed_at = now(), unsettled_call_at = null, updated_at = now() where id = ?`, [
    code,
    title.slice(0, 500),
    id,
  ]);
}
