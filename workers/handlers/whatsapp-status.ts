import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { adoptUnknownStatus } from '../../core/campaigns/unsettled';
import type { InboxRow } from '../../core/inbox/webhook-inbox';
import type { WhatsAppStatusEvent } from '../../activities/channels/whatsapp';

const rank: Record<string, number> = { queued: 0, sent: 1, delivered: 2, read: 3, failed: 4 };
/** How long to wait for the send that a status refers to before deciding the message is not ours. */
const MAX_ATTEMPTS_FOR_UNKNOWN = 6;

/**
 * A delivery status: moves the message forward (sent → delivered → read, or failed), never backward,
 * since Meta does not guarantee order. A status can overtake the send call's answer, so a status for a
 * wamid we have not stored yet is retried for a while.
 */
export function whatsappStatusHandler() {
  return async (row: InboxRow, ctx: { em: EntityManager; logger: Logger }): Promise<void> => {
    const event = row.payload as WhatsAppStatusEvent;
    const at = new Date(event.timestamp * 1000);
    const error = event.errors[0];
    const column = { sent: 'sent_at', delivered: 'delivered_at', read: 'read_at', failed: 'failed_at' }[event.status];
    const apply = () =>
      ctx.em.getConnection().execute<Array<{ id: string }>>(
        `update messages set
           status = case when ? > (case status when 'queued' then 0 when 'sent' then 1 when 'delivered' then 2 when 'read' then 3 when 'failed' then 4 else 0 end) then ? else status end,
           ${column} = coalesce(${column}, ?),
           error_code = coalesce(?, error_code), error_title = coalesce(?, error_title), updated_at = now()
         where provider_message_id = ? returning id`,
        [rank[event.status], event.status, at, error?.code ?? null, error ? `${error.message}${error.details ? `: ${error.details}` : ''}`.slice(0, 500) : null, event.messageId],
      );
    let result = await apply();
    // A campaign send whose worker died before storing the answer: the status tells us it went out.
    if (result.length === 0 && row.phoneNumberId && event.contact.waId) {
      const adopted = await adoptUnknownStatus(ctx.em, { phoneNumberId: row.phoneNumberId, contact: event.contact.waId, providerMessageId: event.messageId, at });
      if (adopted) result = await apply();
    }
    if (result.length === 0 && row.attempts < MAX_ATTEMPTS_FOR_UNKNOWN) {
      throw new Error(`no message with provider id ${event.messageId} yet`);
    }
    if (result.length === 0) ctx.logger.info({ messageId: event.messageId }, 'status for a message we did not send: ignored');
  };
}
