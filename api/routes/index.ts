import type { ApiDeps } from '../deps';
import type { AnyRouteSpec } from '../route';
import { aiSettingsRoutes } from './ai-settings';
import { apiAccessRoutes } from './api-access';
import { apiLogRoutes } from './api-logs';
import { authRoutes } from './auth';
import { campaignRoutes } from './campaigns';
import { conversationRoutes } from './conversations';
import { deliveryMonitorRoutes } from './delivery-monitor';
import { eventRoutes } from './events';
import { flowGenerationRoutes } from './flow-generation';
import { flowRoutes } from './flows';
import { healthRoutes } from './health';
import { knowledgeBaseRoutes } from './knowledge-base';
import { optOutRoutes } from './opt-outs';
import { queueLogRoutes } from './queue-logs';
import { simulatorRoutes } from './simulator';
import { smsSettingsRoutes } from './sms-settings';
import { smsWebhookRoutes } from './sms-webhook';
import { socialRoutes } from './social';
import { templateRoutes } from './templates';
import { templateVariantRoutes } from './template-variants';
import { triggerRoutes } from './triggers';
import { uploadRoutes } from './upload';
import { usageRoutes } from './usage';
import { userRoutes } from './users';
import { verificationRoutes } from './verification';
import { whatsappOnboardingRoutes } from './whatsapp-onboarding';
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
    ...flowGenerationRoutes(deps),
    // Before conversationRoutes: /api/conversations/:id would otherwise take /api/conversations/events.
    ...eventRoutes(deps),
    ...conversationRoutes(deps),
    ...campaignRoutes(deps),
    ...deliveryMonitorRoutes(deps),
    ...queueLogRoutes(deps),
    ...templateVariantRoutes(deps),
    ...templateRoutes(deps),
    ...optOutRoutes(deps),
    ...whatsappSettingsRoutes(deps),
    ...whatsappOnboardingRoutes(deps),
    ...aiSettingsRoutes(deps),
    ...uploadRoutes(deps),
    ...knowledgeBaseRoutes(deps),
    ...usageRoutes(deps),
    ...whatsappWebhookRoutes(deps),
    ...smsSettingsRoutes(deps),
    ...smsWebhookRoutes(deps),
    ...simulatorRoutes(deps),
  ];
}
