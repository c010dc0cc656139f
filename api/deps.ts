import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { Config } from '../core/config';
import type { TemporalHandle } from '../core/temporal/connect';

/** What the API needs from the outside world; built once by the server (or a test) and passed in. */
export interface ApiDeps {
  config: Config & { jwtSecret: string };
  orm: MikroORM;
  temporal: TemporalHandle;
  logger: Logger;
}
