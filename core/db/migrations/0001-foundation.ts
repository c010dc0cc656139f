import { Migration } from '@mikro-orm/migrations';

export class Migration0001Foundation extends Migration {
  async up(): Promise<void> {
    this.addSql(`create table tenants (
      id uuid primary key,
      name text not null,
      created_at timestamptz not null default now())`);
    this.addSql(`create table users (
      id uuid primary key,
      tenant_id uuid not null references tenants(id) on delete cascade,
      username text not null unique,
      email text unique,
      phone text,
      display_name text not null,
      password_hash text,
      google_sub text unique,
      role text not null check (role in ('admin', 'owner', 'user')),
      disabled boolean not null default false,
      api_access_approved boolean not null default false,
      language text not null default 'en',
      theme text not null default 'system',
      email_verified_at timestamptz,
      phone_verified_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now())`);
    this.addSql(`create index users_tenant_id_index on users (tenant_id)`);
    this.addSql(`create table api_credentials (
      id uuid primary key,
      tenant_id uuid not null references tenants(id) on delete cascade,
      user_id uuid not null unique references users(id) on delete cascade,
      client_id text not null unique,
      key_hash text not null,
      key_prefix text not null,
      rotated_at timestamptz not null,
      created_at timestamptz not null default now())`);
    this.addSql(`create index api_credentials_tenant_id_index on api_credentials (tenant_id)`);
    this.addSql(`create table verification_codes (
      id uuid primary key,
      channel text not null,
      destination text not null,
      code_hash text,
      sent_at timestamptz,
      expires_at timestamptz not null,
      tries integer not null default 0,
      consumed_at timestamptz,
      created_at timestamptz not null default now())`);
    this.addSql(`create index verification_codes_destination_created_at_index on verification_codes (destination, created_at)`);
    this.addSql(`create table api_logs (
      id bigserial primary key,
      request_id text not null,
      tenant_id uuid,
      user_id uuid,
      method text not null,
      path text not null,
      status integer not null,
      duration_ms integer not null,
      ip text,
      created_at timestamptz not null default now())`);
    this.addSql(`create index api_logs_created_at_index on api_logs (created_at)`);
    this.addSql(`create index api_logs_tenant_id_index on api_logs (tenant_id)`);
    // Rate limits live in the database so that every API replica counts the same hits.
    this.addSql(`create table rate_limit_hits (
      key text not null,
      window_start timestamptz not null,
      hits integer not null,
      primary key (key, window_start))`);
  }
}
