import { EntitySchema } from '@mikro-orm/core';
import type { FlowGraph } from '../../flow/schema';

/**
 * A published, immutable snapshot of a flow's graph. Journeys pin one (flow id + version number).
 *
 * Immutability is enforced twice: the entity is `readonly` (the ORM never computes an insert or update for
 * it, so rows are written with `em.insert` only), and a database trigger refuses any UPDATE except the
 * admin shape upgrade of core/flows/fix-shay.ts, which must stamp `shape_upgraded_at`.
 */
export class FlowVersion {
  id!: string;
  flowId!: string;
  tenantId!: string;
  version!: number;
  graph!: FlowGraph;
  publishedAt!: Date;
  publishedBy?: string | null;
  /** Set when the flow migration rewrote this version's stored shape (same behaviour, current node shapes). */
  shapeUpgradedAt?: Date | null;
}

export const FlowVersionSchema = new EntitySchema<FlowVersion>({
  class: FlowVersion,
  tableName: 'flow_versions',
  readonly: true,
  uniques: [{ properties: ['flowId', 'version'] }],
  properties: {
    id: { type: 'uuid', primary: true },
    flowId: { type: 'uuid' },
    tenantId: { type: 'uuid', index: true },
    version: { type: 'integer' },
    graph: { type: 'json' },
    publishedAt: { type: 'Date' },
    publishedBy: { type: 'uuid', nullable: true },
    shapeUpgradedAt: { type: 'Date', nullable: true },
  },
});
