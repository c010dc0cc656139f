import type { MikroORM } from '@mikro-orm/postgresql';
import type { SecretBox } from '../core/crypto/secret-box';
import { aiActivities, type AiDeps } from './ai';
import type { SendCounter } from '../core/metrics/registry';
import { campaignActivities } from './campaign';
import { deliveryActivities } from './delivery';
import type { WhatsAppClient } from './channels/whatsapp';
import { journeyActivities } from './journey';
import { knowledgeActivities } from './knowledge';
import type { CodeSender } from './notify/code-sender';
import { verificationActivities } from './notify/verification';

export interface ActivityDeps {
  orm: MikroORM;
  codeSender: CodeSender;
  box: SecretBox;
  whatsapp: WhatsAppClient;
  /** Counts sends by line and outcome, when the process exports metrics. */
  sends?: SendCounter;
  /** The installation's AI provider and call timeout (tenants' own providers are read from the database). */
  ai: AiDeps;
  /** fetch for URLs tenants chose (flows' HTTP request nodes), under the installation's outbound policy. */
  tenantFetch: typeof fetch;
  /** Where uploaded files are kept (DATA_DIR/uploads): the knowledge base reads its documents from there. */
  uploadsDir: string;
}

export function createActivities(deps: ActivityDeps) {
  const journey = journeyActivities(deps);
  return {
    ...verificationActivities({ orm: deps.orm, sender: deps.codeSender }),
    ...journey,
    ...aiActivities(deps),
    ...knowledgeActivities({ orm: deps.orm, box: deps.box, ai: deps.ai, uploadsDir: deps.uploadsDir }),
    ...campaignActivities({ orm: deps.orm, sendMessage: journey.sendMessage }),
    ...deliveryActivities({ orm: deps.orm, box: deps.box, whatsapp: deps.whatsapp, tenantFetch: deps.tenantFetch, sendMessage: journey.sendMessage }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
