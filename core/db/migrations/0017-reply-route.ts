import { Migration } from '@mikro-orm/migrations';

/**
 * Every inbound WhatsApp message asks which conversation owns it (core/journey/reply-route.ts): the customer's
 * conversations on all of the tenant's lines, then their outbound messages of the last day. The unique key
 * (tenant_id, channel, line_id, contact) cannot serve "all lines of this contact", so this index does.
 */
export class Migration0017ReplyRoute extends Migration {
  async up(): Promise<void> {
    this.addSql(`create index conversations_tenant_contact_index on conversations (tenant_id, contact)`);
  }
}
