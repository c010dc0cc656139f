import type { MikroORM } from '@mikro-orm/postgresql';
import { ApplicationFailure } from '@temporalio/common';
import { getVersion, latestPublishedVersion, activePublishedFlows } from '../../core/flows/repository';
import { hideSecrets } from '../../core/flows/secrets';
import type { InboundMessage, LoadedFlow } from '../../core/journey/types';

/** Which inbound trigger a message fires: a keyword match wins over a catch-all. */
export function inboundTriggerRank(graph: LoadedFlow['graph'], text: string): number {
  const t = text.trim().toLowerCase();
  let best = 0;
  for (const node of graph.nodes) {
    if (node.type !== 'trigger_inbound') continue;
    const keywords = node.data.keywords.map((k) => k.trim().toLowerCase());
    if (node.data.match === 'exact' && keywords.includes(t)) best = Math.max(best, 3);
    else if (node.data.match === 'contains' && keywords.some((k) => t.includes(k))) best = Math.max(best, 2);
    else if (node.data.match === 'any') best = Math.max(best, 1);
  }
  return best;
}

export function flowActivities(deps: { orm: MikroORM }) {
  return {
    /** A pinned version when given, else the newest published one. Versions are immutable, so this is replay-safe. */
    async loadFlow(input: { tenantId: string; flowId: string; version?: number }): Promise<LoadedFlow> {
      const em = deps.orm.em.fork();
      const flow =
        input.version === undefined
          ? await latestPublishedVersion(em, input.tenantId, input.flowId)
          : await getVersion(em, input.flowId, input.version, input.tenantId);
      if (!flow) {
        throw ApplicationFailure.nonRetryable(
          input.version === undefined ? `flow ${input.flowId} has no published version` : `flow ${input.flowId} has no version ${input.version}`,
          'flow_missing',
        );
      }
      // A journey has no use for its triggers' secrets, and what it is given is kept in its Temporal history.
      return hideSecrets(flow as LoadedFlow);
    },

    async matchInboundTrigger(input: { tenantId: string; lineId: string; message: InboundMessage }): Promise<{ flowId: string; version: number; graph: LoadedFlow['graph'] } | null> {
      const flows = await activePublishedFlows(deps.orm.em.fork(), input.tenantId, { lineId: input.lineId });
      const text = input.message.text ?? input.message.choiceId ?? '';
      let winner: { flowId: string; version: number; graph: LoadedFlow['graph']; rank: number } | null = null;
      for (const f of flows) {
        const rank = inboundTriggerRank(f.graph as LoadedFlow['graph'], text);
        // A flow bound to this very line beats a tenant-wide one of the same rank.
        const score = rank * 2 + (f.whatsappLineId === input.lineId ? 1 : 0);
        if (rank > 0 && (!winner || score > winner.rank)) winner = { flowId: f.flowId, version: f.version, graph: f.graph as LoadedFlow['graph'], rank: score };
      }
      // The graph comes along: the journey starts the flow without loading it again.
      return winner && { flowId: winner.flowId, version: winner.version, graph: hideSecrets(winner.graph) };
    },
  };
}
