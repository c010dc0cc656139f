import type { WhatsAppOtherEvent } from '../../activities/channels/whatsapp';
import type { InboxRow } from '../../core/inbox/webhook-inbox';
import { templateStatusOf } from '../../core/templates/status';
import type { InboxHandler, InboxHandlerContext } from '../inbox-dispatcher';

/**
 * How long an event for a template we have not stored yet is retried: the webhook may overtake the create (Meta
 * answers the create, then our row is written). Measured in time, not attempts: a busy API may take longer to
 * write the row than a few quick retries last.
 */
export const UNKNOWN_TEMPLATE_PATIENCE_MS = 2 * 60_000;

interface TemplateEventValue {
  event?: unknown;
  message_template_id?: unknown;
  message_template_name?: unknown;
  message_template_language?: unknown;
  reason?: unknown;
  new_quality_score?: unknown;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined);

/**
 * Template review and quality webhooks (`message_template_status_update`, `message_template_quality_update`),
 * which arrive as `other` inbox rows, update the templates of the WABA they name (by Meta's template id, else
 * by name and language). Other fields go to `next`, the `other` handler this one wraps.
 */
export function templateEventsHandler(next: InboxHandler | undefined): InboxHandler {
  return async (row: InboxRow, ctx: InboxHandlerContext): Promise<void> => {
    const event = row.payload as WhatsAppOtherEvent;
    if (event.field !== 'message_template_status_update' && event.field !== 'message_template_quality_update') return next?.(row, ctx);
    const value = (event.value ?? {}) as TemplateEventValue;
    const providerId = text(value.message_template_id);
    const name = text(value.message_template_name);
    const language = text(value.message_template_language);
    const match = `waba_id = ? and (provider_template_id = ? or (name = ? and language = ?))`;
    const matchArgs = [event.wabaId, providerId ?? null, name ?? null, language ?? null];
    const conn = ctx.em.getConnection();

    let changed: Array<{ id: string }>;
    if (event.field === 'message_template_quality_update') {
      changed = await conn.execute(`update templates set quality_score = ?, updated_at = now() where ${match} returning id`, [text(value.new_quality_score) ?? null, ...matchArgs]);
    } else {
      const status = templateStatusOf(text(value.event));
      if (status === undefined) {
        ctx.logger.info({ event: value.event, templateId: providerId }, 'template event that does not change its status: ignored');
        return;
      }
      const reason = text(value.reason);
      changed =
        status === 'DELETED'
          ? await conn.execute(`delete from templates where ${match} returning id`, matchArgs)
          : await conn.execute(`update templates set status = ?, rejected_reason = ?, updated_at = now() where ${match} returning id`, [
              status,
              status === 'REJECTED' && reason && reason !== 'NONE' ? reason : null,
              ...matchArgs,
            ]);
    }
    if (changed.length === 0 && Date.now() - new Date(row.receivedAt).getTime() < UNKNOWN_TEMPLATE_PATIENCE_MS) throw new Error(`no template ${providerId ?? name} of WABA ${event.wabaId} yet`);
    if (changed.length === 0) ctx.logger.info({ templateId: providerId, name, wabaId: event.wabaId }, 'event for a template we do not have: ignored (a sync brings it in)');
  };
}
