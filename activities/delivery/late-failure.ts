import type { MikroORM } from '@mikro-orm/postgresql';
import { ChannelSendError, toActivityFailure } from '../../core/channels/errors';
import type { SecretBox } from '../../core/crypto/secret-box';
import { WhatsAppLine } from '../../core/db/entities';
import type { DeliveryActivities } from '../../core/delivery/types';
import type { WhatsAppClient } from '../channels/whatsapp';
import { isTemplateReference } from '../../core/journey/template-reference';
import { sendWithTemplateFallback } from '../journey/templates';
import { intentOf } from './redeliver';

interface Row {
  id: string;
  tenant_id: string;
  status: string;
  provider_message_id: string | null;
  payload: Record<string, unknown>;
  template_ref: { templateId?: string; templateGroupId?: string; language: string; params?: string[] } | null;
  contact: string;
  line_id: string;
}

/**
 * What the delivery workflow does when WhatsApp reports, after accepting a message, that it could not be
 * delivered (a `failed` status with a definitive error, e.g. 131026): the attempt that went out is recorded
 * as failed, then the fallback engine goes on from the next candidate of the group, exactly as if the send had
 * been refused at once; the message row then follows the new send. Idempotent: run again, it finds the attempt
 * failed and the engine finds the next attempt already sent.
 */
export function lateFailureActivities(deps: { orm: MikroORM; box: SecretBox; whatsapp: WhatsAppClient; tenantFetch: typeof fetch }): Omit<DeliveryActivities, 'redeliver'> {
  return {
    async continueAfterLateFailure({ messageId, failedProviderMessageId, errorCode, errorTitle, followForMs }) {
      const em = deps.orm.em.fork();
      const conn = em.getConnection();
      const [m] = await conn.execute<Row[]>(
        `select m.id, m.tenant_id, m.status, m.provider_message_id, m.payload, m.template_ref, c.contact, c.line_id
         from messages m join conversations c on c.id = m.conversation_id where m.id = ?`,
        [messageId],
      );
      if (!m) return { providerMessageId: null, detail: 'the message no longer exists' };
      // A run of this activity before a crash already sent the next candidate (or a manual retry reopened it).
      if (m.provider_message_id !== failedProviderMessageId) {
        return m.provider_message_id && m.status !== 'failed' ? { providerMessageId: m.provider_message_id } : { providerMessageId: null, detail: 'the message moved on' };
      }
      await conn.execute(
        `update message_attempts set outcome = 'failed', error_class = 'definitive', error_code = ?, error_title = ?, finished_at = now()
         where message_id = ? and provider_message_id = ? and outcome = 'sent'`,
        [errorCode ?? null, errorTitle?.slice(0, 500) ?? null, messageId, failedProviderMessageId],
      );
      const message = intentOf(m.payload, m.template_ref);
      if (!isTemplateReference(message)) return { providerMessageId: null, detail: 'not a template send by id or group: there is nothing to fall back to' };
      const line = await em.findOne(WhatsAppLine, { id: m.line_id, tenantId: m.tenant_id });
      if (!line) return { providerMessageId: null, detail: 'the line of the conversation no longer exists' };
      try {
        const next = await sendWithTemplateFallback(deps, { em, messageId, tenantId: m.tenant_id, to: m.contact, sendingLine: line, message });
        await conn.execute(
          `update messages set provider_message_id = ?, status = 'sent', sent_at = now(), delivered_at = null, read_at = null, failed_at = null,
             error_code = null, error_title = null, payload = ?, template_name = ?, text = ?,
             follow_until = now() + make_interval(secs => ?::float8 / 1000), updated_at = now()
           where id = ? and provider_message_id = ?`,
          [next.wamid, JSON.stringify(next.sent), next.sent.name, `[template ${next.sent.name}]`, followForMs, messageId, failedProviderMessageId],
        );
        return { providerMessageId: next.wamid };
      } catch (err) {
        if (!(err instanceof ChannelSendError)) throw err;
        if (err.retryable) throw toActivityFailure(err);
        await conn.execute(`update messages set error_code = ?, error_title = ?, updated_at = now() where id = ? and provider_message_id = ?`, [
          err.code ?? errorCode ?? 0,
          err.message.slice(0, 500),
          messageId,
          failedProviderMessageId,
        ]);
        return { providerMessageId: null, detail: err.message };
      }
    },

    async markDeliveryStale({ messageId, providerMessageId }) {
      await deps.orm.em
        .getConnection()
        .execute(
          `update messages set stale_at = coalesce(stale_at, now()), updated_at = now()
           where id = ? and status in ('queued', 'sent') and (?::text is null or provider_message_id = ?)`,
          [messageId, providerMessageId ?? null, providerMessageId ?? null],
        );
    },
  };
}
