import { Migration } from '@mikro-orm/migrations';

/**
 * The dashboard's live feed (core/events/change-feed.ts) asks, about once a second, which messages and
 * conversations of the listening tenants changed since its last look. Every writer already stamps
 * `updated_at`; these indexes make that question a short range scan instead of a pass over a tenant's rows.
 */
export class Migration0014ChangeFeedIndexes extends Migration {
  async up(): Promise<void> {
    this.addSql(`create index messages_tenant_updated_index on messages (tenant_id, updated_at)`);
    this.addSql(`create index conversations_tenant_updated_index on conversations (tenant_id, updated_at)`);
  }
}
