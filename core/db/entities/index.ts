import { ApiCredentialSchema } from './api-credential';
import { ApiLogSchema } from './api-log';
import { ConversationSchema } from './conversation';
import { FlowSchema } from './flow';
import { FlowVersionSchema } from './flow-version';
import { MessageSchema } from './message';
import { TenantSchema } from './tenant';
import { UserSchema } from './user';
import { VerificationCodeSchema } from './verification-code';
import { WhatsAppLineSchema } from './whatsapp-line';

export * from './api-credential';
export * from './api-log';
export * from './conversation';
export * from './flow';
export * from './flow-version';
export * from './message';
export * from './tenant';
export * from './user';
export * from './verification-code';
export * from './whatsapp-line';

export const entitySchemas = [TenantSchema, UserSchema, ApiCredentialSchema, VerificationCodeSchema, ApiLogSchema, WhatsAppLineSchema, ConversationSchema, MessageSchema, FlowSchema, FlowVersionSchema];
