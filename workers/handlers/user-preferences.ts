import type { WhatsAppOtherEvent } from '../../activities/channels/whatsapp';
import { applyMarketingPreferences } from '../../core/contacts/opt-out';
import type { InboxRow } from '../../core/inbox/webhook-inbox';
import type { InboxHandler, InboxHandlerContext } from '../inbox-dispatcher';

/**
 * Meta's `user_preferences` webhook (an `other` inbox row): a WhatsApp user stopped or resumed marketing
 * messages from the business, which opts them out of (or back into) campaigns. Other fields go to `next`,
 * the `other` handler this one wraps. Idempotent: applying a preference twice leaves the same state.
 */
export function userPreferencesHandler(next: InboxHandler | undefined): InboxHandler {
  return async (row: InboxRow, ctx: InboxHandlerContext): Promise<void> => {
    const event = row.payload as WhatsAppOtherEvent;
    if (event.field !== 'user_preferences') return next?.(row, ctx);
    if (!row.tenantId) return;
    const applied = await applyMarketingPreferences(ctx.em, row.tenantId, event.value);
    ctx.logger.info({ applied }, 'marketing preferences applied');
  };
}
