import { Migration } from '@mikro-orm/migrations';

export class Migration0005Conversations extends Migration {
  async up(): Promise<void> {
    this.addSql(`create table conversations (
      id uuid primary key,
      tenant_id uuid not null references tenants(id) on delete cascade,
      channel text not null,
      line_id uuid not null,
      contact text not null,
      customer_name text,
      flow_id uuid,
      flow_version integer,
      status text not null default 'bot' check (status in ('bot', 'agent', 'closed')),
      assigned_user_id uuid references users(id) on delete set null,
      journey_workflow_id text not null,
      current_node text,
      last_message text,
      last_message_at timestamptz,
      last_customer_message_at timestamptz,
      started_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (tenant_id, channel, line_id, contact))`);
    this.addSql(`create index conversations_tenant_status_index on conversations (tenant_id, status, last_message_at desc)`);
    this.addSql(`create table messages (
      id uuid primary key,
      tenant_id uuid not null references tenants(id) on delete cascade,
      conversation_id uuid not null references conversations(id) on delete cascade,
      direction text not null check (direction in ('in', 'out')),
      type text not null,
      text text,
      payload jsonb not null,
      status text not null,
      provider_message_id text unique,
      idempotency_key text unique,
      error_code integer,
      error_title text,
      sent_by text,
      journey_node text,
      attempts integer not null default 0,
      sent_at timestamptz,
      delivered_at timestamptz,
      read_at timestamptz,
      failed_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now())`);
    this.addSql(`create index messages_conversation_created_index on messages (conversation_id, created_at)`);
    this.addSql(`create index messages_tenant_status_index on messages (tenant_id, status)`);
  }
}
