import type { MikroORM } from '@mikro-orm/postgresql';
import type { SecretBox } from '../../core/crypto/secret-box';
import type { SendCounter } from '../../core/metrics/registry';
import type { JourneyActivities } from '../../core/journey/activities';
import type { WhatsAppClient } from '../channels/whatsapp';
import { callHttpActivity } from './call-http';
import { flowActivities } from './flows';
import { recordJourneyActivity } from './record-journey';
import { sendMessageActivity } from './send-message';

export function journeyActivities(deps: {
  orm: MikroORM;
  box: SecretBox;
  whatsapp: WhatsAppClient;
  sends?: SendCounter;
  /** fetch for the URLs flows call: the installation's outbound policy applies. */
  tenantFetch: typeof fetch;
}): JourneyActivities {
  return {
    ...flowActivities(deps),
    sendMessage: sendMessageActivity(deps),
    recordJourney: recordJourneyActivity(deps),
    callHttp: callHttpActivity({ fetch: deps.tenantFetch }),
  };
}
