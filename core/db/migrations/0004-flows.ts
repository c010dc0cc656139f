import { Migration } from '@mikro-orm/migrations';

export class Migration0004Flows extends Migration {
  async up(): Promise<void> {
    // whatsapp_line_id stays a plain uuid for now: which line a flow sends from is checked by the lines code.
    this.addSql(`create table flows (
      id uuid primary key,
      tenant_id uuid not null references tenants(id) on delete cascade,
      name text not null,
      description text,
      status text not null default 'draft' check (status in ('draft', 'active', 'inactive')),
      draft jsonb not null,
      latest_version integer check (latest_version >= 1),
      whatsapp_line_id uuid,
      created_by uuid references users(id) on delete set null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      check (status <> 'active' or latest_version is not null))`);
    this.addSql(`create index flows_tenant_id_updated_at_index on flows (tenant_id, updated_at desc)`);
    this.addSql(`create table flow_versions (
      id uuid primary key,
      flow_id uuid not null references flows(id) on delete cascade,
      tenant_id uuid not null references tenants(id) on delete cascade,
      version integer not null check (version >= 1),
      graph jsonb not null,
      published_at timestamptz not null default now(),
      published_by uuid references users(id) on delete set null,
      shape_upgraded_at timestamptz,
      unique (flow_id, version))`);
    this.addSql(`create index flow_versions_tenant_id_index on flow_versions (tenant_id)`);
    // Published versions are immutable. The one exception is the admin flow migration (POST /api/flows/fix-shay),
    // which may rewrite the graph's shape and must then stamp shape_upgraded_at; nothing else may change.
    // (published_by may still be nulled by the foreign key when its user is deleted.)
    this.addSql(`create function flow_versions_immutable() returns trigger language plpgsql as $body$
      begin
        if new.id = old.id and new.flow_id = old.flow_id and new.tenant_id = old.tenant_id and new.version = old.version
           and new.published_at = old.published_at
           and (new.published_by is not distinct from old.published_by or new.published_by is null)
           and ((new.graph = old.graph and new.shape_upgraded_at is not distinct from old.shape_upgraded_at)
                or (new.shape_upgraded_at is not null and new.shape_upgraded_at is distinct from old.shape_upgraded_at)) then
          return new;
        end if;
        raise exception 'flow version % of flow % is published and cannot be changed', old.version, old.flow_id
          using errcode = 'check_violation';
      end
    $body$`);
    this.addSql(`create trigger flow_versions_immutable before update on flow_versions
      for each row execute function flow_versions_immutable()`);
  }
}
