import { Migration } from '@mikro-orm/migrations';

/**
 * - A trigger that wakes the inbox dispatcher (workers/inbox-dispatcher.ts) as soon as webhook events are
 *   committed, instead of it finding them at its next poll: a NOTIFY on channel `webhook_inbox` per insert
 *   statement that stored at least one new row (a redelivery, which stores nothing, wakes nobody). PostgreSQL
 *   delivers it at commit.
 * - `messages.unsettled_call_at`: when the latest provider call for the message was made, while its outcome is
 *   not stored. Set right before the call, cleared when the answer (accepted, refused) is stored: a retried
 *   send that finds it set knows the message may have gone out (activities/journey/send-message.ts).
 */
export class Migration0015Reliability extends Migration {
  async up(): Promise<void> {
    this.addSql(`create function webhook_inbox_notify() returns trigger language plpgsql as $$
      begin
        if exists (select 1 from inserted) then
          perform pg_notify('webhook_inbox', '');
        end if;
        return null;
      end $$`);
    this.addSql(`create trigger webhook_inbox_notify after insert on webhook_inbox
      referencing new table as inserted for each statement execute function webhook_inbox_notify()`);
    this.addSql(`alter table messages add column unsettled_call_at timestamptz`);
  }
}
