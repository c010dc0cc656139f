import { Migration } from '@mikro-orm/migrations';

export class Migration0010Ai extends Migration {
  async up(): Promise<void> {
    this.addSql(`create table ai_providers (
      id uuid primary key,
      tenant_id uuid not null references tenants(id) on delete cascade,
      name text not null check (length(name) between 1 and 100),
      kind text not null check (kind in ('openai', 'openai_compatible')),
      base_url text,
      api_key_sealed text,
      api_key_hint text not null default '',
      generation_model text not null,
      reply_model text not null,
      embedding_model text not null,
      is_default boolean not null default false,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (tenant_id, name),
      check (kind = 'openai' or base_url is not null))`);
    this.addSql(`create index ai_providers_tenant_id_index on ai_providers (tenant_id)`);
    // At most one default provider per tenant, whatever the application does.
    this.addSql(`create unique index ai_providers_one_default_per_tenant on ai_providers (tenant_id) where is_default`);

    this.addSql(`create table ai_budgets (
      tenant_id uuid primary key references tenants(id) on delete cascade,
      monthly_budget_usd double precision check (monthly_budget_usd >= 0),
      alert_at_percent integer not null default 80 check (alert_at_percent between 1 and 100),
      updated_at timestamptz not null default now())`);

    this.addSql(`create table ai_usage (
      id uuid primary key,
      tenant_id uuid not null references tenants(id) on delete cascade,
      provider_id uuid references ai_providers(id) on delete set null,
      provider_name text not null,
      model text not null,
      purpose text not null check (purpose in ('generation', 'replies', 'embeddings')),
      prompt_tokens integer not null check (prompt_tokens >= 0),
      completion_tokens integer not null check (completion_tokens >= 0),
      total_tokens integer not null check (total_tokens >= 0),
      cost_usd double precision check (cost_usd >= 0),
      reference text,
      created_at timestamptz not null default now())`);
    this.addSql(`create index ai_usage_tenant_id_created_at_index on ai_usage (tenant_id, created_at)`);

    this.addSql(`create table ai_generations (
      id uuid primary key,
      tenant_id uuid not null references tenants(id) on delete cascade,
      user_id uuid references users(id) on delete set null,
      prompt text not null,
      file_name text,
      file_type text,
      document_text text,
      image_data bytea,
      status text not null default 'running' check (status in ('running', 'succeeded', 'failed')),
      flow_id uuid references flows(id) on delete set null,
      node_count integer,
      repaired boolean,
      error text,
      created_at timestamptz not null default now(),
      finished_at timestamptz)`);
    this.addSql(`create index ai_generations_tenant_id_created_at_index on ai_generations (tenant_id, created_at desc)`);
  }
}
