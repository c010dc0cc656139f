import { Migration } from '@mikro-orm/migrations';

/**
 * The delivery monitor (GET,POST /api/monitor/delivery) and the delivery workflow that follows a message
 * after it was sent when it needs following (workflows/delivery/follow-delivery.ts).
 *
 * - `messages.template_ref`: the template id or group a template send was asked for. The send resolves it to
 *   one template and overwrites `payload` with what went out; a late `failed` status, or a manual retry, runs
 *   the fallback engine again and needs the group.
 * - `messages.delivery_round` and `message_attempts.round`: a manual retry is a new round of the same logical
 *   message; the fallback engine starts each round from the group's first template, and the round is in the
 *   delivery workflow's id, so a retry request repeated finds the same workflow.
 * - `messages.follow_until`: a delivery workflow follows the message until then, so the status webhook handler
 *   passes its statuses on. Only messages that need one are followed (a manual retry, a fallback send after a
 *   late failure): the others' statuses need nothing but the row update, and a workflow per message does not
 *   keep up with one line's 80 messages/s (see workflows/delivery/follow-delivery.ts).
 * - `messages.stale_at`: when the delivery workflow stopped waiting for a status (it marks the message stale).
 * - `message_retries`: who asked for each retry and how it ended (the audit trail).
 */
export class Migration0011DeliveryMonitor extends Migration {
  async up(): Promise<void> {
    this.addSql(`alter table messages add column template_ref jsonb`);
    this.addSql(`alter table messages add column delivery_round integer not null default 0`);
    this.addSql(`alter table messages add column stale_at timestamptz`);
    this.addSql(`alter table messages add column follow_until timestamptz`);
    this.addSql(`alter table message_attempts add column round integer not null default 0`);

    // The monitor's lists: a tenant's outbound messages over a window.
    this.addSql(`create index messages_tenant_out_created_index on messages (tenant_id, created_at desc) where direction = 'out'`);
    // A status about a wamid the fallback engine has since replaced is recognised by its attempt.
    this.addSql(`create index message_attempts_provider_message_id_index on message_attempts (provider_message_id) where provider_message_id is not null`);

    this.addSql(`create table message_retries (
      message_id uuid not null references messages(id) on delete cascade,
      round integer not null check (round >= 1),
      tenant_id uuid not null references tenants(id) on delete cascade,
      requested_by uuid references users(id) on delete set null,
      requested_at timestamptz not null default now(),
      outcome text not null default 'queued' check (outcome in ('queued', 'sent', 'failed', 'refused')),
      detail text,
      finished_at timestamptz,
      primary key (message_id, round))`);
  }
}
