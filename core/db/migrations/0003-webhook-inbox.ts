import { Migration } from '@mikro-orm/migrations';

/**
 * Provider webhooks land here first (api/routes/whatsapp-webhook.ts) and are drained by the worker's
 * dispatcher (workers/inbox-dispatcher.ts). The unique key is the deduplication: a redelivery is one
 * insert that does nothing.
 */
export class Migration0003WebhookInbox extends Migration {
  async up(): Promise<void> {
    this.addSql(`create table webhook_inbox (
      id bigserial primary key,
      provider text not null,
      dedupe_key text not null,
      kind text not null check (kind in ('message', 'status', 'other')),
      phone_number_id text,
      tenant_id uuid references tenants(id) on delete cascade,
      payload jsonb not null,
      received_at timestamptz not null default now(),
      processed_at timestamptz,
      attempts integer not null default 0,
      last_error text,
      next_attempt_at timestamptz not null default now(),
      constraint webhook_inbox_provider_dedupe_key_unique unique (provider, dedupe_key))`);
    // Only unprocessed rows are indexed: what the dispatcher claims (due first) and the age of the backlog.
    this.addSql(`create index webhook_inbox_due_index on webhook_inbox (next_attempt_at, id) where processed_at is null`);
    this.addSql(`create index webhook_inbox_pending_received_at_index on webhook_inbox (received_at) where processed_at is null`);
  }
}
