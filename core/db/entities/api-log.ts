import { EntitySchema, OptionalProps } from '@mikro-orm/core';

export class ApiLog {
  [OptionalProps]?: 'createdAt';
  id!: string;
  requestId!: string;
  tenantId?: string | null;
  userId?: string | null;
  method!: string;
  path!: string;
  status!: number;
  durationMs!: number;
  ip?: string | null;
  createdAt: Date = new Date();
}

export const ApiLogSchema = new EntitySchema<ApiLog>({
  class: ApiLog,
  tableName: 'api_logs',
  indexes: [{ properties: ['createdAt'] }],
  properties: {
    id: { type: 'bigint', primary: true, autoincrement: true },
    requestId: { type: 'string' },
    tenantId: { type: 'uuid', nullable: true, index: true },
    userId: { type: 'uuid', nullable: true },
    method: { type: 'string' },
    path: { type: 'string' },
    status: { type: 'integer' },
    durationMs: { type: 'integer' },
    ip: { type: 'string', nullable: true },
    createdAt: { type: 'Date', onCreate: () => new Date() },
  },
});
