import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { CampaignTuning } from '../core/campaigns/types';
import type { Config } from '../core/config';
import type { TemporalHandle } from '../core/temporal/connect';

/** What the API needs from the outside world; built once by the server (or a test) and passed in. */
export interface ApiDeps {
  config: Config & { jwtSecret: string };
  orm: MikroORM;
  temporal: TemporalHandle;
  logger: Logger;
  /** Overrides of the campaign workflow's defaults for the campaigns this API starts (tests shorten its waits). */
  campaignTuning?: Partial<CampaignTuning>;
}
