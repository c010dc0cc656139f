import type { MikroORM } from '@mikro-orm/postgresql';
import type { TemporalHandle } from '../../core/temporal/connect';
import { InboxHandlerRegistry } from '../inbox-dispatcher';
import { templateEventsHandler } from './template-events';
import { userPreferencesHandler } from './user-preferences';
import { whatsappInboundHandler } from './whatsapp-inbound';
import { whatsappStatusHandler, type StatusHandlerDeps } from './whatsapp-status';

/** What the webhook inbox dispatcher does with each kind of event. */
export function journeyInboxHandlers(deps: { orm: MikroORM; temporal: TemporalHandle; delivery?: StatusHandlerDeps['delivery'] }): InboxHandlerRegistry {
  const registry = new InboxHandlerRegistry();
  registry.register('message', whatsappInboundHandler(deps));
  registry.register('status', whatsappStatusHandler(deps));
  registry.register('other', templateEventsHandler(registry.get('other')));
  registry.register('other', userPreferencesHandler(registry.get('other')));
  return registry;
}
