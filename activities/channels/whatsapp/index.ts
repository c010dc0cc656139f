export { createWhatsAppClient, type SendMessageRequest, type SentMessage, type WhatsAppClient, type WhatsAppClientOptions } from './client';
export { classifyGraphError, classifyNetworkError, classOfGraphCode } from './errors';
export { verifyMetaSignature } from './signature';
export {
  createWhatsAppTemplatesClient,
  listAllTemplates,
  type ProviderTemplate,
  type TemplateDefinition,
  type TemplatesPage,
  type WhatsAppTemplatesClient,
} from './templates';
export {
  parseWhatsAppWebhook,
  type WhatsAppContact,
  type WhatsAppDeliveryStatus,
  type WhatsAppErrorEvent,
  type WhatsAppMessageEvent,
  type WhatsAppOtherEvent,
  type WhatsAppStatusEvent,
  type WhatsAppWebhookEvent,
} from './webhook';
export { toCloudApiMessage, toCloudApiRead } from './wire';
