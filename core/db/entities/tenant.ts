import { EntitySchema, OptionalProps } from '@mikro-orm/core';

/** The customer account. Every business record carries its tenant's id. */
export class Tenant {
  [OptionalProps]?: 'createdAt';
  id!: string;
  name!: string;
  createdAt: Date = new Date();
}

export const TenantSchema = new EntitySchema<Tenant>({
  class: Tenant,
  tableName: 'tenants',
  properties: {
    id: { type: 'uuid', primary: true },
    name: { type: 'string' },
    createdAt: { type: 'Date', onCreate: () => new Date() },
  },
});
