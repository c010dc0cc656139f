import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Flow, FlowVersion } from '../db/entities';
import { upgradeFlowGraph } from '../flow/upgrade';

/**
 * The flow migration behind `POST /api/flows/fix-shay`: validates every stored draft and published version
 * against the current schema and upgrades old node shapes with the rules of core/flow/upgrade.ts.
 *
 * Published versions are immutable, with one exception made here: a version whose upgrade is shape-only and
 * validates is rewritten in place (and stamped `shape_upgraded_at`, which the database trigger requires).
 * Every upgrade rule is shape-only by construction, so the version behaves exactly as it did; journeys that
 * already run it carry their own copy of the graph. A version that stays invalid is only reported.
 */
export interface FlowShapeReport {
  dryRun: boolean;
  scanned: { flows: number; versions: number };
  changed: Array<{ flowId: string; tenantId: string; where: string; changes: string[] }>;
  invalid: Array<{ flowId: string; tenantId: string; where: string; errors: string[] }>;
}

const pageSize = 100;

export async function fixFlowShapes(em: EntityManager, opts: { dryRun: boolean; tenantId?: string }): Promise<FlowShapeReport> {
  const report: FlowShapeReport = { dryRun: opts.dryRun, scanned: { flows: 0, versions: 0 }, changed: [], invalid: [] };
  let after: string | undefined;
  for (;;) {
    const work = em.fork();
    const page = await work.find(
      Flow,
      { ...(opts.tenantId ? { tenantId: opts.tenantId } : {}), ...(after ? { id: { $gt: after } } : {}) },
      { orderBy: { id: 'asc' }, limit: pageSize, fields: ['id'] },
    );
    if (!page.length) break;
    for (const { id } of page) await fixOneFlow(em.fork(), id, opts.dryRun, report);
    after = page[page.length - 1].id;
  }
  return report;
}

async function fixOneFlow(em: EntityManager, flowId: string, dryRun: boolean, report: FlowShapeReport): Promise<void> {
  const run = async (tem: EntityManager) => {
    // Locked in a real run, so an editor saving the draft meanwhile is not overwritten with a stale upgrade.
    const flow = await tem.findOne(Flow, { id: flowId }, dryRun ? {} : { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!flow) return; // deleted since the page was read
    report.scanned.flows++;
    const base = { flowId: flow.id, tenantId: flow.tenantId };
    const draft = upgradeFlowGraph(flow.draft);
    if (!draft.ok) report.invalid.push({ ...base, where: 'draft', errors: draft.errors });
    else if (draft.changes.length) {
      report.changed.push({ ...base, where: 'draft', changes: draft.changes });
      if (!dryRun) flow.draft = draft.graph;
    }
    const versions = await tem.find(FlowVersion, { flowId: flow.id }, { orderBy: { version: 'asc' } });
    for (const v of versions) {
      report.scanned.versions++;
      const where = `version ${v.version}`;
      const result = upgradeFlowGraph(v.graph);
      if (!result.ok) report.invalid.push({ ...base, where, errors: result.errors });
      else if (result.changes.length) {
        report.changed.push({ ...base, where, changes: result.changes });
        // The one sanctioned update of a published version (see above); nothing else writes flow_versions.
        if (!dryRun) await tem.nativeUpdate(FlowVersion, { id: v.id }, { graph: result.graph, shapeUpgradedAt: new Date() });
      }
    }
    if (!dryRun) await tem.flush();
  };
  if (dryRun) await run(em);
  else await em.transactional(run);
}
