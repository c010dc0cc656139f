import { Migration } from '@mikro-orm/migrations';

export class Migration0002WhatsAppLines extends Migration {
  async up(): Promise<void> {
    this.addSql(`create table whatsapp_lines (
      id uuid primary key,
      tenant_id uuid not null references tenants(id) on delete cascade,
      phone_number_id text not null unique check (phone_number_id ~ '^[0-9]+$'),
      waba_id text not null,
      display_phone_number text not null,
      access_token_sealed text not null,
      access_token_hint text not null,
      verify_token text not null,
      is_primary boolean not null default false,
      status text not null default 'active' check (status in ('active', 'needs_reauth', 'disabled')),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now())`);
    this.addSql(`create index whatsapp_lines_tenant_id_index on whatsapp_lines (tenant_id)`);
    // At most one primary line per tenant, whatever the application does.
    this.addSql(`create unique index whatsapp_lines_one_primary_per_tenant on whatsapp_lines (tenant_id) where is_primary`);
    this.addSql(`create index whatsapp_lines_verify_token_index on whatsapp_lines (verify_token)`);
  }
}
