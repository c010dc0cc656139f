import { Migration } from '@mikro-orm/migrations';

/**
 * `pair_rate_slots`: the governor's pair-rate schedule (core/channels/rate-governor.ts), one row per line and
 * recipient it has sent to. It was `conversations.pair_next_slot_at`, which holds only where the recipient has a
 * conversation on the line that sends: a message sent from the customer's reply line, or by the template fallback
 * from another line of the WABA, found no row there and was not held to the pair rate at all. The pending slots
 * move over, so no recipient gets a burst at the upgrade.
 */
export class Migration0020PairRateSlots extends Migration {
  async up(): Promise<void> {
    this.addSql(`create table pair_rate_slots (
      line_id uuid not null references whatsapp_lines(id) on delete cascade,
      contact text not null,
      next_slot_at timestamptz not null,
      primary key (line_id, contact))`);
    this.addSql(`insert into pair_rate_slots (line_id, contact, next_slot_at)
      select line_id, contact, pair_next_slot_at from conversations
      where channel = 'whatsapp' and pair_next_slot_at > now()
      on conflict do nothing`);
    this.addSql(`alter table conversations drop column pair_next_slot_at`);
  }
}
