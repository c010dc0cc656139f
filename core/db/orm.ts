import { MikroORM } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { entitySchemas } from './entities';
import { Migration0001Foundation } from './migrations/0001-foundation';

const migrationsList = [{ name: '0001-foundation', class: Migration0001Foundation }];

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
