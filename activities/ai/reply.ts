import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { exceededBudget } from '../../core/ai/budget';
import { maxReplyChars, parseReplyAnswer, replyMessages, replyResponseFormat } from '../../core/ai/knowledge-prompt';
import type { KnowledgeCitation, KnowledgeReplyInput, KnowledgeReplyResult, RecordKnowledgeReplyInput } from '../../core/ai/knowledge-reply';
import { resolveProvider } from '../../core/ai/providers';
import { historyLimits, priorTurns, searchQuery, type ConversationMessage, type PriorTurn } from '../../core/ai/reply-context';
import type { SecretBox } from '../../core/crypto/secret-box';
import { searchKnowledge, type KnowledgeHit } from '../../core/knowledge/search';
import { embedQuery } from '../knowledge/embeddings';
import type { AiDeps } from '.';
import { billedChatCompletion } from './billed-chat';

/** A customer is waiting: one call gets this long, however long flow generation may take. */
const replyTimeoutMs = 30_000;
const maxCompletionTokens = 1200;

const citationOf = (h: KnowledgeHit): KnowledgeCitation => ({ documentId: h.documentId, documentName: h.documentName, chunkId: h.chunkId, chunkIndex: h.chunkIndex, score: h.score });

/**
 * The question's embedding, so passages alike in meaning are found too. Without one (no provider, or its
 * embeddings failed) the search is by full text alone: still grounded, and the customer is not kept waiting.
 */
async function queryEmbedding(em: EntityManager, deps: { box: SecretBox; ai: AiDeps }, input: KnowledgeReplyInput, query: string): Promise<number[] | null> {
  try {
    return (await embedQuery(em, deps, { tenantId: input.tenantId, query, reference: input.reference }))?.vector ?? null;
  } catch {
    return null;
  }
}

/**
 * The conversation before the customer's latest message, for the model: the journey's recent messages with
 * text (not the ones that failed to go out), newest first, up to the latest message itself. That one is
 * usually stored already (inbound messages are recorded before the journey hears of them): it is the newest
 * inbound message with the question's text, and neither it nor anything after it is history.
 */
async function conversationSoFar(em: EntityManager, input: KnowledgeReplyInput): Promise<PriorTurn[]> {
  const key = input.conversation;
  if (!key) return [];
  const rows = await em.getConnection().execute<ConversationMessage[]>(
    `with conversation as (
       select id from conversations where tenant_id = ? and channel = ? and line_id = ? and contact = ?
     ),
     recent as (
       select m.id, m.direction, m.text, m.created_at
         from messages m join conversation c on c.id = m.conversation_id
        where m.created_at > now() - make_interval(hours => ?) and m.text ~ '\\S' and m.status <> 'failed'
     ),
     latest as (
       select id, created_at from recent where direction = 'in' and regexp_replace(text, ?, '', 'g') = ? order by created_at desc, id desc limit 1
     )
     select direction, text from recent r
      where not exists (select 1 from latest l where (r.created_at, r.id) >= (l.created_at, l.id))
      order by created_at desc, id desc
      limit ?`,
    [input.tenantId, key.channel, key.lineId, key.contact, historyLimits.maxAgeHours, '^\\s+|\\s+$', input.question, historyLimits.messages],
  );
  return priorTurns(rows);
}

/**
 * The AI reply node's answer: the passages of the tenant's knowledge base that match the customer's message
 * (a short follow-up read with their previous one), and the reply model's answer drawn from them, given the
 * conversation so far, with the passages it cites. Whenever the node should hand the customer to an agent
 * instead — the budget is used up, no provider, nothing relevant retrieved, the model cannot answer from the
 * passages or sees the customer wants a person — it says so, and why, rather than fail.
 * The provider's failures are thrown as usual (transient ones are retried by the workflow). Not idempotent in
 * cost: a retry is a new call, billed and recorded again.
 */
export function answerFromKnowledgeActivity(deps: { orm: MikroORM; box: SecretBox; ai: AiDeps }) {
  return async function answerFromKnowledge(input: KnowledgeReplyInput): Promise<KnowledgeReplyResult> {
    const em = deps.orm.em.fork();
    if (await exceededBudget(em, input.tenantId)) return { outcome: 'handoff', reason: 'over_budget' };
    const provider = await resolveProvider(em, deps.box, deps.ai.fallback, input.tenantId, 'replies');
    if (!provider) return { outcome: 'handoff', reason: 'not_configured' };

    const history = await conversationSoFar(em, input);
    const query = searchQuery(input.question, history);
    const embedding = await queryEmbedding(em, deps, input, query);
    const found = await searchKnowledge(em, { tenantId: input.tenantId, query, limit: input.maxSources, queryEmbedding: embedding });
    const hits = found.filter((h) => h.score >= input.minScore);
    if (!hits.length) return { outcome: 'handoff', reason: 'no_knowledge' };

    const completion = await billedChatCompletion(em, provider, {
      tenantId: input.tenantId,
      tenantFetch: deps.ai.tenantFetch,
      purpose: 'replies',
      reference: input.reference,
      timeoutMs: Math.min(replyTimeoutMs, deps.ai.requestTimeoutMs),
      request: { messages: replyMessages(input.question, hits, input.instructions, history), response_format: replyResponseFormat(), max_completion_tokens: maxCompletionTokens },
    });

    const choice = completion.choices[0];
    const reply = choice?.finish_reason === 'length' || choice?.message.refusal ? undefined : parseReplyAnswer(choice?.message.content ?? '');
    if (!reply) return { outcome: 'handoff', reason: 'cannot_answer' };
    if (reply.wantsHuman) return { outcome: 'handoff', reason: 'asked_for_person' };
    // An answer that cites none of the passages is not grounded in them: not confident enough to send.
    const cited = [...new Set(reply.sources)].filter((n) => Number.isInteger(n) && n >= 1 && n <= hits.length).map((n) => citationOf(hits[n - 1]));
    const answer = reply.answer.trim();
    if (!reply.canAnswer || !answer || !cited.length) return { outcome: 'handoff', reason: 'cannot_answer' };
    return { outcome: 'answer', answer: answer.slice(0, maxReplyChars), citations: cited, provider: provider.name, model: provider.model };
  };
}

/**
 * Notes on the sent answer's message row (its payload, which the inbox shows) which documents and passages it
 * was drawn from; idempotent (a plain overwrite of the `ai` key).
 */
export function recordKnowledgeReplyActivity(deps: { orm: MikroORM }) {
  return async function recordKnowledgeReply(input: RecordKnowledgeReplyInput): Promise<void> {
    const ai = { kind: 'knowledge_reply', provider: input.provider, model: input.model, citations: input.citations };
    await deps.orm.em
      .getConnection()
      .execute(`update messages set payload = payload || jsonb_build_object('ai', ?::jsonb), updated_at = now() where id = ? and tenant_id = ?`, [
        JSON.stringify(ai),
        input.messageId,
        input.tenantId,
      ]);
  };
}
