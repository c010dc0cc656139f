import { MikroORM } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { entitySchemas } from './entities';
import { Migration0001Foundation } from './migrations/0001-foundation';
import { Migration0002WhatsAppLines } from './migrations/0002-whatsapp-lines';
import { Migration0003WebhookInbox } from './migrations/0003-webhook-inbox';
import { Migration0004Flows } from './migrations/0004-flows';
import { Migration0005Conversations } from './migrations/0005-conversations';
import { Migration0007Templates } from './migrations/0007-templates';
import { Migration0008Campaigns } from './migrations/0008-campaigns';
import { Migration0009LineSendWindow } from './migrations/0009-line-send-window';
import { Migration0010Ai } from './migrations/0010-ai';
import { Migration0011DeliveryMonitor } from './migrations/0011-delivery-monitor';
import { Migration0012LineOnboarding } from './migrations/0012-line-onboarding';
import { Migration0013KnowledgeBase } from './migrations/0013-knowledge-base';
import { Migration0014ChangeFeedIndexes } from './migrations/0014-change-feed-indexes';
import { Migration0015Reliability } from './migrations/0015-reliability';
import { Migration0016AttemptCalls } from './migrations/0016-attempt-calls';
import { Migration0017ReplyRoute } from './migrations/0017-reply-route';
import { Migration0018SmsChannel } from './migrations/0018-sms-channel';
import { Migration0019ReplyLine } from './migrations/0019-reply-line';
import { Migration0020PairRateSlots } from './migrations/0020-pair-rate-slots';

const migrationsList = [
  { name: '0001-foundation', class: Migration0001Foundation },
  { name: '0002-whatsapp-lines', class: Migration0002WhatsAppLines },
  { name: '0003-webhook-inbox', class: Migration0003WebhookInbox },
  { name: '0004-flows', class: Migration0004Flows },
  { name: '0005-conversations', class: Migration0005Conversations },
  { name: '0007-templates', class: Migration0007Templates },
  { name: '0008-campaigns', class: Migration0008Campaigns },
  { name: '0009-line-send-window', class: Migration0009LineSendWindow },
  { name: '0010-ai', class: Migration0010Ai },
  { name: '0011-delivery-monitor', class: Migration0011DeliveryMonitor },
  { name: '0012-line-onboarding', class: Migration0012LineOnboarding },
  { name: '0013-knowledge-base', class: Migration0013KnowledgeBase },
  { name: '0014-change-feed-indexes', class: Migration0014ChangeFeedIndexes },
  { name: '0015-reliability', class: Migration0015Reliability },
  { name: '0016-attempt-calls', class: Migration0016AttemptCalls },
  { name: '0017-reply-route', class: Migration0017ReplyRoute },
  { name: '0018-sms-channel', class: Migration0018SmsChannel },
  { name: '0019-reply-line', class: Migration0019ReplyLine },
  { name: '0020-pair-rate-slots', class: Migration0020PairRateSlots },
];

export type Orm = MikroORM;

export async function openOrm(databaseUrl: string, opts: { debug?: boolean } = {}): Promise<Orm> {
  return MikroORM.init({
    clientUrl: databaseUrl,
    entities: entitySchemas,
    extensions: [Migrator],
    migrations: { migrationsList, transactional: true, allOrNothing: true },
    debug: opts.debug ?? false,
    discovery: { warnWhenNoEntities: false },
    allowGlobalContext: false,
    // Keep a dead database from hanging requests: fail fast so /api/health can report 503.
    pool: { min: 0, max: 10, acquireTimeoutMillis: 5000 },
    driverOptions: { connection: { connectionTimeoutMillis: 3000 } },
  });
}

export async function migrate(orm: Orm): Promise<void> {
  await orm.getMigrator().up();
}
