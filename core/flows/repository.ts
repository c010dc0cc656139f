import { LockMode, type FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Flow, FlowVersion, type FlowStatus } from '../db/entities';
import { AppError, notFound } from '../errors';
import type { FlowGraph } from '../flow/schema';
import { upgradeFlowGraph } from '../flow/upgrade';
import { newId } from '../ids';

/**
 * Flows and their published versions: what the API and the journey engine read and write. Versions are
 * immutable — this module inserts them and never updates one (the only exception is the admin shape
 * migration in ./fix-shay.ts, enforced by a database trigger).
 */

/** A published graph as a journey pins it: flow id + version number, and the graph to walk. */
export interface PublishedFlow {
  flowId: string;
  version: number;
  graph: FlowGraph;
}

export const emptyGraph = (): FlowGraph => ({ nodes: [], edges: [] });

/** The flow of this tenant, or a 404 — a flow of another tenant is answered exactly as an absent one. */
export async function findFlowForTenant(em: EntityManager, tenantId: string, id: string): Promise<Flow> {
  const flow = await em.findOne(Flow, { id, tenantId });
  if (!flow) throw notFound('Flow');
  return flow;
}

/** The newest published version of a tenant's flow, or null when it has never been published (or is absent). */
export async function latestPublishedVersion(em: EntityManager, tenantId: string, flowId: string): Promise<PublishedFlow | null> {
  const row = await em.findOne(FlowVersion, { flowId, tenantId }, { orderBy: { version: 'desc' } });
  return row ? published(row) : null;
}

/**
 * One published version, as pinned by a running journey. `tenantId`, when given, must match (the engine
 * passes the journey's tenant so a forged flow id cannot reach another tenant's flow).
 */
export async function getVersion(em: EntityManager, flowId: string, version: number, tenantId?: string): Promise<PublishedFlow | null> {
  const row = await em.findOne(FlowVersion, { flowId, version, ...(tenantId ? { tenantId } : {}) });
  return row ? published(row) : null;
}

/**
 * The active flows of a tenant with their newest version, e.g. to match an inbound message to a trigger.
 * With `lineId`, only the flows bound to that line and those bound to no line (null `whatsappLineId`).
 */
export async function activePublishedFlows(
  em: EntityManager,
  tenantId: string,
  opts: { lineId?: string } = {},
): Promise<Array<PublishedFlow & { whatsappLineId: string | null }>> {
  const where: FilterQuery<Flow> = { tenantId, status: 'active', latestVersion: { $ne: null } };
  if (opts.lineId) where.$or = [{ whatsappLineId: opts.lineId }, { whatsappLineId: null }];
  const flows = await em.find(Flow, where, { orderBy: { createdAt: 'asc', id: 'asc' }, exclude: ['draft'] });
  if (!flows.length) return [];
  const rows = await em.find(FlowVersion, { $or: flows.map((f) => ({ flowId: f.id, version: f.latestVersion! })) });
  const byFlow = new Map(rows.map((r) => [r.flowId, r]));
  return flows.flatMap((f) => {
    const row = byFlow.get(f.id);
    return row ? [{ ...published(row), whatsappLineId: f.whatsappLineId ?? null }] : [];
  });
}

/**
 * A stored graph is the schema's output at the time it was saved; parsing it again fills defaults added to
 * the schema since, and an older node shape is upgraded on the way (./fix-shay.ts rewrites it for good).
 */
function published(row: FlowVersion): PublishedFlow {
  const result = upgradeFlowGraph(row.graph);
  if (!result.ok) {
    throw new AppError('invalid', `Flow ${row.flowId} version ${row.version} does not match the flow schema: ${result.errors.slice(0, 3).join('; ')}`);
  }
  return { flowId: row.flowId, version: row.version, graph: result.graph };
}

export interface NewFlow {
  tenantId: string;
  createdBy: string | null;
  name: string;
  description?: string | null;
  status?: FlowStatus;
  graph?: FlowGraph;
}

export async function createFlow(em: EntityManager, input: NewFlow): Promise<Flow> {
  const status = input.status ?? 'draft';
  assertStatusAllowed(status, null);
  const flow = em.create(Flow, {
    id: newId(),
    tenantId: input.tenantId,
    name: input.name,
    description: input.description ?? null,
    status,
    draft: input.graph ?? emptyGraph(),
    createdBy: input.createdBy,
  });
  await em.flush();
  return flow;
}

/** `active` means new journeys run the newest published version, so there must be one. */
export function assertStatusAllowed(status: FlowStatus, latestVersion: number | null | undefined): void {
  if (status === 'active' && !latestVersion) {
    throw new AppError('invalid', 'A flow can be active only once it has a published version: publish a version first (POST /api/flows/{id}/versions)');
  }
}

/**
 * Publishes the flow's current draft as version N+1. The flow row is locked for the transaction, so two
 * concurrent publishes get consecutive numbers rather than a conflict. The draft is validated again: the
 * schema may have tightened since it was saved.
 */
export async function publishDraft(em: EntityManager, flowId: string, publishedBy: string | null): Promise<FlowVersion> {
  return em.transactional(async (tem) => {
    const flow = await tem.findOne(Flow, { id: flowId }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
    if (!flow) throw notFound('Flow');
    // A draft stored before a shape change is published in the current shapes (same behaviour, see upgrade.ts).
    const checked = upgradeFlowGraph(flow.draft);
    if (!checked.ok) throw new AppError('invalid', `The draft does not match the flow schema: ${checked.errors.slice(0, 5).join('; ')}`);
    if (checked.graph.nodes.length === 0) throw new AppError('invalid', 'The draft has no nodes: add a trigger and the steps that follow before publishing');
    const version: FlowVersion = Object.assign(new FlowVersion(), {
      id: newId(),
      flowId: flow.id,
      tenantId: flow.tenantId,
      version: (flow.latestVersion ?? 0) + 1,
      graph: checked.graph,
      publishedAt: new Date(),
      publishedBy,
      shapeUpgradedAt: null,
    });
    // FlowVersion is a readonly entity: rows are inserted directly and never tracked for updates.
    await tem.insert(FlowVersion, version);
    flow.latestVersion = version.version;
    await tem.flush();
    return version;
  });
}

/** Versions of a flow, newest first; the graphs only when asked (they can be large). */
export type VersionSummary = Omit<FlowVersion, 'graph'> & { graph?: FlowGraph };

export async function listVersions(em: EntityManager, flowId: string, opts: { withGraph?: boolean } = {}): Promise<VersionSummary[]> {
  return em.find(FlowVersion, { flowId }, { orderBy: { version: 'desc' }, ...(opts.withGraph ? {} : { exclude: ['graph'] as const }) });
}

/**
 * Deletes a flow and (by the foreign key's cascade) its versions. Running journeys are unaffected: the engine
 * copies the pinned version's graph into the workflow input when a journey starts, so it never reads it back.
 */
export async function deleteFlow(em: EntityManager, flow: Flow): Promise<void> {
  await em.remove(flow).flush();
}
