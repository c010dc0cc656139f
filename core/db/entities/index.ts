import { ApiCredentialSchema } from './api-credential';
import { ApiLogSchema } from './api-log';
import { TenantSchema } from './tenant';
import { UserSchema } from './user';
import { VerificationCodeSchema } from './verification-code';

export * from './api-credential';
export * from './api-log';
export * from './tenant';
export * from './user';
export * from './verification-code';

export const entitySchemas = [TenantSchema, UserSchema, ApiCredentialSchema, VerificationCodeSchema, ApiLogSchema];
