import { ActivityFailure, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { AiActivities } from '../../../core/ai/activities';
import { asksForPerson, type HandoffReason, type KnowledgeReplyResult } from '../../../core/ai/knowledge-reply';
import { interpolate } from '../../../core/flow/interpolate';
import type { NodeOf } from '../../../core/flow/catalogue';
import type { NodeContext, NodeHandler, Outcome } from './types';

const ai = proxyActivities<Pick<AiActivities, 'answerFromKnowledge'>>({
  startToCloseTimeout: '1 minute',
  // The customer is waiting: a few quick retries of the provider's transient failures, then an agent.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 seconds', maximumAttempts: 3 },
});
const notes = proxyActivities<Pick<AiActivities, 'recordKnowledgeReply'>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

type Ctx = NodeContext<NodeOf<'ai_reply'>>;

/** The customer goes to an agent: through the `handoff` exit when it leads somewhere, else the journey waits for one. */
async function handOff(ctx: Ctx, reason: HandoffReason): Promise<Outcome> {
  ctx.variables[`${ctx.node.id}_handoff_reason`] = reason;
  if (ctx.node.data.handoffMessage) await ctx.send({ type: 'text', text: interpolate(ctx.node.data.handoffMessage, ctx.variables) });
  return ctx.connected('handoff') ? { kind: 'next', handle: 'handoff' } : { kind: 'handoff' };
}

async function answer(ctx: Ctx, question: string): Promise<Outcome> {
  const { node, variables } = ctx;
  if (asksForPerson(question, node.data.handoffKeywords)) return handOff(ctx, 'asked_for_person');
  let result: KnowledgeReplyResult;
  try {
    result = await ai.answerFromKnowledge({
      tenantId: ctx.key.tenantId,
      question,
      instructions: node.data.instructions,
      maxSources: node.data.maxSources,
      minScore: node.data.minScore,
      reference: `journey/${workflowInfo().workflowId}/${node.id}`,
      conversation: { channel: ctx.key.channel, lineId: ctx.key.lineId, contact: ctx.key.contact },
    });
  } catch (err) {
    if (err instanceof ActivityFailure) return handOff(ctx, 'ai_unavailable');
    throw err;
  }
  if (result.outcome === 'handoff') return handOff(ctx, result.reason);
  const { messageId } = await ctx.send({ type: 'text', text: result.answer });
  await notes.recordKnowledgeReply({ tenantId: ctx.key.tenantId, messageId, citations: result.citations, provider: result.provider, model: result.model });
  variables[`${node.id}_answer`] = result.answer;
  variables[`${node.id}_handoff_reason`] = '';
  return { kind: 'next', handle: 'answered' };
}

export const aiReply: NodeHandler<NodeOf<'ai_reply'>> = {
  async enter(ctx) {
    const { prompt, question } = ctx.node.data;
    if (prompt) {
      await ctx.send({ type: 'text', text: interpolate(prompt, ctx.variables) });
      return { kind: 'wait_reply' };
    }
    const text = interpolate(question, ctx.variables).trim();
    // Nothing to answer yet (a flow started by the API, say): the customer's next message is the question.
    return text ? answer(ctx, text) : { kind: 'wait_reply' };
  },
  async reply(ctx, message) {
    const text = (message.text ?? '').trim();
    return text ? answer(ctx, text) : { kind: 'wait_reply' };
  },
};
