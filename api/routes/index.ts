import type { ApiDeps } from '../deps';
import type { AnyRouteSpec } from '../route';
import { apiAccessRoutes } from './api-access';
import { apiLogRoutes } from './api-logs';
import { authRoutes } from './auth';
import { conversationRoutes } from './conversations';
import { flowRoutes } from './flows';
import { healthRoutes } from './health';
import { socialRoutes } from './social';
import { triggerRoutes } from './triggers';
import { userRoutes } from './users';
import { verificationRoutes } from './verification';
import { whatsappSettingsRoutes } from './whatsapp-settings';
import { whatsappWebhookRoutes } from './whatsapp-webhook';

export function allRoutes(deps: ApiDeps): AnyRouteSpec[] {
  return [
    ...healthRoutes(deps),
    ...authRoutes(deps),
    ...verificationRoutes(deps),
    ...socialRoutes(deps),
    ...triggerRoutes(deps),
    ...apiAccessRoutes(deps),
    ...userRoutes(deps),
    ...apiLogRoutes(deps),
    ...flowRoutes(deps),
    ...conversationRoutes(deps),
    ...whatsappSettingsRoutes(deps),
    ...whatsappWebhookRoutes(deps),
  ];
}
