import { Migration } from '@mikro-orm/migrations';

/**
 * `message_attempts.called_at`: when the fallback engine's provider call for the attempt left (the line's
 * governor gave it its slot), while the attempt is pending. The WhatsApp Cloud API has no idempotency key, so
 * a pending attempt with a call made may have gone out: a retried send waits for the provider's status webhook
 * instead of sending it again (activities/journey/templates.ts), and a status for a message id we do not know,
 * from the attempt's line to its contact, is that attempt's (adoptUnknownStatus, core/campaigns/unsettled.ts).
 * A call the provider refused clears it. The partial index serves that look-up by line.
 */
export class Migration0016AttemptCalls extends Migration {
  async up(): Promise<void> {
    this.addSql(`alter table message_attempts add column called_at timestamptz`);
    this.addSql(`create index message_attempts_in_doubt_index on message_attempts (phone_number_id) where outcome = 'pending' and called_at is not null`);
  }
}
