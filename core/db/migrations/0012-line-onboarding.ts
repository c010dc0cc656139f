import { Migration } from '@mikro-orm/migrations';

/**
 * Lines removed by POST /api/whatsapp/reset-wa-before-reconnect, kept so that connecting the same number again
 * (Embedded Signup, or an extra line) gives it back its old line id. Conversations, campaigns, flows and journey
 * workflow ids all name a line by that id, so with it the number picks up where it left off: the inbox history
 * stays attached, a paused campaign can be resumed, a flow's line is its line again. `preferred_by_groups` are
 * the template groups whose preferred line it was (the foreign key cleared them), to be restored with it.
 */
export class Migration0012LineOnboarding extends Migration {
  async up(): Promise<void> {
    this.addSql(`create table whatsapp_retired_lines (
      tenant_id uuid not null references tenants(id) on delete cascade,
      phone_number_id text not null,
      line_id uuid not null unique,
      waba_id text not null,
      verify_token text not null,
      rate_per_second integer not null,
      preferred_by_groups uuid[] not null default '{}',
      retired_at timestamptz not null default now(),
      primary key (tenant_id, phone_number_id))`);
  }
}
