import type { MikroORM } from '@mikro-orm/postgresql';
import type { SecretBox } from '../../core/crypto/secret-box';
import type { DeliveryActivities } from '../../core/delivery/types';
import type { SendFn } from '../campaign/page';
import type { WhatsAppClient } from '../channels/whatsapp';
import { lateFailureActivities } from './late-failure';
import { redeliverActivity } from './redeliver';

/** The delivery workflow's activities (workflows/delivery/follow-delivery.ts). */
export function deliveryActivities(deps: { orm: MikroORM; box: SecretBox; whatsapp: WhatsAppClient; tenantFetch: typeof fetch; sendMessage: SendFn }): DeliveryActivities {
  return { ...lateFailureActivities(deps), redeliver: redeliverActivity(deps) };
}
