import { Migration } from '@mikro-orm/migrations';

export class Migration0007Templates extends Migration {
  async up(): Promise<void> {
    // A template lives in a WhatsApp Business Account (WABA); the same WABA may be connected to more than one
    // tenant, so a row is the tenant's copy of Meta's template, keyed by Meta's id within the tenant.
    this.addSql(`create table templates (
      id uuid primary key,
      tenant_id uuid not null references tenants(id) on delete cascade,
      waba_id text not null,
      provider_template_id text,
      name text not null,
      language text not null,
      category text not null check (category in ('MARKETING', 'UTILITY', 'AUTHENTICATION')),
      components jsonb not null default '[]',
      status text not null check (status in ('PENDING', 'APPROVED', 'REJECTED', 'PAUSED', 'DISABLED')),
      rejected_reason text,
      quality_score text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (tenant_id, waba_id, name, language))`);
    this.addSql(`create unique index templates_tenant_provider_id_index on templates (tenant_id, provider_template_id) where provider_template_id is not null`);
    // Status webhooks name the WABA and Meta's template id, not the tenant.
    this.addSql(`create index templates_waba_provider_id_index on templates (waba_id, provider_template_id)`);

    this.addSql(`create table template_groups (
      id uuid primary key,
      tenant_id uuid not null references tenants(id) on delete cascade,
      name text not null,
      preferred_line_id uuid references whatsapp_lines(id) on delete set null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now())`);
    this.addSql(`create index template_groups_tenant_id_index on template_groups (tenant_id)`);
    // The fallback order: position 0 is tried first.
    this.addSql(`create table template_group_members (
      group_id uuid not null references template_groups(id) on delete cascade,
      position integer not null check (position >= 0),
      template_id uuid not null references templates(id) on delete cascade,
      primary key (group_id, position),
      unique (group_id, template_id))`);
    this.addSql(`create index template_group_members_template_id_index on template_group_members (template_id)`);

    // One row per provider call of a logical send (the message row): the fallback engine's audit trail.
    // (message_id, attempt_no) is the idempotency key of an attempt: a retried activity finds its attempts.
    this.addSql(`create table message_attempts (
      message_id uuid not null references messages(id) on delete cascade,
      attempt_no integer not null check (attempt_no >= 1),
      tenant_id uuid not null references tenants(id) on delete cascade,
      line_id uuid references whatsapp_lines(id) on delete set null,
      phone_number_id text not null,
      template_id uuid references templates(id) on delete set null,
      template_name text,
      template_language text,
      outcome text not null check (outcome in ('pending', 'sent', 'failed', 'skipped')),
      provider_message_id text,
      error_class text,
      error_code integer,
      error_title text,
      tries integer not null default 0,
      started_at timestamptz not null default now(),
      finished_at timestamptz,
      primary key (message_id, attempt_no))`);
    this.addSql(`create index message_attempts_tenant_started_index on message_attempts (tenant_id, started_at desc)`);

    // What a trigger or campaign said about a send, so its delivery can be looked up (check-sent, outbound-status).
    // campaign_id is text: the outbound trigger's data.campaignId is the integrator's own label.
    this.addSql(`alter table messages add column if not exists source_ref text`);
    this.addSql(`alter table messages add column if not exists campaign_id text`);
    this.addSql(`alter table messages add column if not exists template_name text`);
    this.addSql(`create index if not exists messages_tenant_source_ref_index on messages (tenant_id, source_ref) where source_ref is not null`);
    this.addSql(`create index if not exists messages_tenant_campaign_id_index on messages (tenant_id, campaign_id) where campaign_id is not null`);
  }
}
