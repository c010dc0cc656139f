/** Every workflow the worker hosts. Workflow code imports nothing but @temporalio/workflow and types. */
export { sendVerificationCode } from './verification/send-verification-code';
export { journey } from './journey/journey';
export { deliverMessage } from './delivery/deliver-message';
export { followDelivery } from './delivery/follow-delivery';
export { generateFlow } from './ai/generate-flow';
export { indexKnowledgeDocument } from './knowledge/index-document';
export { embedSearchQuery } from './knowledge/embed-query';
export { generateTemplateVariants } from './ai/template-variants';
export { campaign } from './campaign/campaign';
