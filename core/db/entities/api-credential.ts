import { EntitySchema, OptionalProps } from '@mikro-orm/core';

/** One credential set per customer account (user). The key itself is never stored, only its hash. */
export class ApiCredential {
  [OptionalProps]?: 'rotatedAt' | 'createdAt';
  id!: string;
  tenantId!: string;
  userId!: string;
  clientId!: string;
  keyHash!: string;
  /** The first characters of the key, so a person can tell keys apart without the secret. */
  keyPrefix!: string;
  rotatedAt: Date = new Date();
  createdAt: Date = new Date();
}

export const ApiCredentialSchema = new EntitySchema<ApiCredential>({
  class: ApiCredential,
  tableName: 'api_credentials',
  properties: {
    id: { type: 'uuid', primary: true },
    tenantId: { type: 'uuid', index: true },
    userId: { type: 'uuid', unique: true },
    clientId: { type: 'string', unique: true },
    keyHash: { type: 'string' },
    keyPrefix: { type: 'string' },
    rotatedAt: { type: 'Date' },
    createdAt: { type: 'Date', onCreate: () => new Date() },
  },
});
