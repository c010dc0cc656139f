import { EntitySchema, OptionalProps } from '@mikro-orm/core';
import type { FlowGraph } from '../../flow/schema';

export const flowStatuses = ['draft', 'active', 'inactive'] as const;
export type FlowStatus = (typeof flowStatuses)[number];

/**
 * A flow of a tenant: the editable draft plus a pointer to its newest published version. Journeys never run
 * the draft; they run an immutable `FlowVersion` (see core/flows/repository.ts).
 */
export class Flow {
  [OptionalProps]?: 'description' | 'status' | 'latestVersion' | 'whatsappLineId' | 'createdBy' | 'createdAt' | 'updatedAt';
  id!: string;
  tenantId!: string;
  name!: string;
  description?: string | null;
  /** `active` needs a published version: new journeys take `latestVersion`. */
  status: FlowStatus = 'draft';
  /** The editor's working copy, always valid against the flow schema (it is checked on every save). */
  draft!: FlowGraph;
  /** The newest published version number; null until the first publish. */
  latestVersion?: number | null;
  /** The WhatsApp line this flow is bound to; null when it is bound to none (it then sends from the primary line). */
  whatsappLineId?: string | null;
  createdBy?: string | null;
  createdAt: Date = new Date();
  updatedAt: Date = new Date();
}

export const FlowSchema = new EntitySchema<Flow>({
  class: Flow,
  tableName: 'flows',
  properties: {
    id: { type: 'uuid', primary: true },
    tenantId: { type: 'uuid', index: true },
    name: { type: 'string' },
    description: { type: 'text', nullable: true },
    status: { type: 'string' },
    draft: { type: 'json' },
    latestVersion: { type: 'integer', nullable: true },
    whatsappLineId: { type: 'uuid', nullable: true },
    createdBy: { type: 'uuid', nullable: true },
    createdAt: { type: 'Date', onCreate: () => new Date() },
    updatedAt: { type: 'Date', onCreate: () => new Date(), onUpdate: () => new Date() },
  },
});
