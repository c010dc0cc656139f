import { Migration } from '@mikro-orm/migrations';

/**
 * - `conversations.reply_line_id`: the line the customer last wrote to for this conversation, when it is not
 *   the conversation's own (they answered a message the fallback engine sent from another line of the WABA).
 *   Meta opens the 24-hour window per business number, so the conversation's next messages go out from that
 *   line (activities/journey/send-message.ts) until the customer writes to the conversation's own line again.
 * - `messages.sent_line_id`: the line a message actually went out from, when the send path chose it (the
 *   reply line above); which conversation a later reply on that line belongs to depends on it
 *   (core/journey/reply-route.ts).
 */
export class Migration0019ReplyLine extends Migration {
  async up(): Promise<void> {
    this.addSql(`alter table conversations add column reply_line_id uuid references whatsapp_lines(id) on delete set null`);
    this.addSql(`alter table messages add column sent_line_id uuid references whatsapp_lines(id) on delete set null`);
  }
}
