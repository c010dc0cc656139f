import { Migration } from '@mikro-orm/migrations';

/**
 * Rate governance, campaigns (bulk sends) and opt-outs.
 *
 * - `whatsapp_lines.rate_per_second`: what the line may send (Meta: 80 by default, up to 1,000).
 * - `line_rate_buckets`: one row per line, the governor's schedule (core/channels/rate-governor.ts). It holds
 *   the line's next free send slot, so every worker process shares one pace.
 * - `conversations.pair_next_slot_at`: the same for the pair rate to one recipient; the conversation row is
 *   already one per (line, contact).
 * - `campaigns` and `campaign_recipients`: a bulk send and its recipients, paged through by the campaign
 *   workflow (workflows/campaign/campaign.ts). A recipient's id is in its message's idempotency key.
 * - `contact_opt_outs` and `opt_out_settings`: who said STOP (or stopped marketing at Meta), and the
 *   keywords each tenant listens for.
 */
export class Migration0008Campaigns extends Migration {
  async up(): Promise<void> {
    this.addSql(`alter table whatsapp_lines add column rate_per_second integer not null default 80 check (rate_per_second between 1 and 1000)`);

    this.addSql(`create table line_rate_buckets (
      line_id uuid primary key references whatsapp_lines(id) on delete cascade,
      next_slot_at timestamptz not null default now(),
      slowdown double precision not null default 1 check (slowdown > 0 and slowdown <= 1),
      slowdown_until timestamptz,
      rate_errors integer not null default 0,
      last_rate_error_code integer,
      last_rate_error_at timestamptz)`);

    this.addSql(`alter table conversations add column pair_next_slot_at timestamptz`);

    this.addSql(`create table campaigns (
      id uuid primary key,
      tenant_id uuid not null references tenants(id) on delete cascade,
      line_id uuid not null,
      name text not null,
      status text not null default 'running' check (status in ('running', 'paused', 'completed', 'cancelled', 'failed')),
      status_reason text,
      message jsonb not null,
      source_ref text,
      idempotency_key text,
      created_by uuid references users(id) on delete set null,
      recipient_count integer not null,
      workflow_id text not null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      finished_at timestamptz,
      unique (tenant_id, idempotency_key))`);
    this.addSql(`create index campaigns_tenant_created_index on campaigns (tenant_id, created_at desc)`);

    this.addSql(`create table campaign_recipients (
      id bigserial primary key,
      campaign_id uuid not null references campaigns(id) on delete cascade,
      tenant_id uuid not null,
      contact text not null,
      params jsonb not null default '[]',
      state text not null default 'pending' check (state in ('pending', 'sending', 'in_doubt', 'sent', 'failed', 'skipped')),
      skip_reason text,
      attempts integer not null default 0,
      not_before timestamptz,
      message_id uuid,
      last_error text,
      updated_at timestamptz not null default now(),
      unique (campaign_id, contact))`);
    // What the campaign claims next, and the sends whose outcome a crash left unknown.
    this.addSql(`create index campaign_recipients_pending_index on campaign_recipients (campaign_id, id) where state = 'pending'`);
    this.addSql(`create index campaign_recipients_unsettled_index on campaign_recipients (contact) where state in ('sending', 'in_doubt')`);

    this.addSql(`create table contact_opt_outs (
      tenant_id uuid not null references tenants(id) on delete cascade,
      contact text not null,
      source text not null check (source in ('keyword', 'meta', 'api', 'provider_error')),
      detail text,
      opted_out_at timestamptz not null default now(),
      primary key (tenant_id, contact))`);

    this.addSql(`create table opt_out_settings (
      tenant_id uuid primary key references tenants(id) on delete cascade,
      stop_keywords text[] not null,
      start_keywords text[] not null,
      updated_at timestamptz not null default now())`);
  }
}
