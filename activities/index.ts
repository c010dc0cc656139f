import type { MikroORM } from '@mikro-orm/postgresql';
import type { SecretBox } from '../core/crypto/secret-box';
import type { SendCounter } from '../core/metrics/registry';
import type { WhatsAppClient } from './channels/whatsapp';
import { journeyActivities } from './journey';
import type { CodeSender } from './notify/code-sender';
import { verificationActivities } from './notify/verification';

export interface ActivityDeps {
  orm: MikroORM;
  codeSender: CodeSender;
  box: SecretBox;
  whatsapp: WhatsAppClient;
  /** Counts sends by line and outcome, when the process exports metrics. */
  sends?: SendCounter;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...verificationActivities({ orm: deps.orm, sender: deps.codeSender }),
    ...journeyActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
