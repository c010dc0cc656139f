import { z } from 'zod';
import type { KnowledgeHit } from '../knowledge/search';
import { strictJsonSchema } from './flow-generation';
import type { PriorTurn } from './reply-context';

/**
 * What the AI reply node asks the model: answer the customer from numbered knowledge-base passages only, say
 * which passages the answer comes from, and say so when the passages do not answer the message or the
 * customer wants a person. The shape is structured output, so those signals are fields, not prose to guess at.
 * The conversation so far comes before the latest message as ordinary chat turns, so a follow-up makes sense;
 * the sources stay the only ground for facts.
 */

export const replySchemaName = 'flowbot_knowledge_reply';

/** WhatsApp allows 4096 characters in a text; the model is asked for far less. */
export const maxReplyChars = 4096;

export const knowledgeReplyAnswer = z.object({
  canAnswer: z.boolean().describe("true when the sources contain the answer to the customer's message"),
  wantsHuman: z.boolean().describe('true when the customer asks to talk to a person, a human or an agent'),
  answer: z.string().describe('The reply to the customer, drawn from the sources only; empty when canAnswer is false'),
  sources: z.array(z.number().int()).describe('The numbers of the sources the answer is drawn from'),
});

export type KnowledgeReplyAnswer = z.infer<typeof knowledgeReplyAnswer>;

export function replyResponseFormat() {
  return {
    type: 'json_schema' as const,
    json_schema: { name: replySchemaName, strict: true, schema: strictJsonSchema(z.toJSONSchema(knowledgeReplyAnswer, { io: 'output' })) as Record<string, unknown> },
  };
}

export function replyMessages(question: string, hits: KnowledgeHit[], instructions?: string, history: readonly PriorTurn[] = []) {
  const system = [
    "You answer a business's customers on WhatsApp, using only the numbered sources from the business's knowledge base. Answer with JSON in the given schema.",
    '- If the sources contain the answer: canAnswer true, a short, friendly answer (at most 700 characters, plain text, no markdown) in the language of the customer, and the numbers of the sources you used.',
    '- If they do not: canAnswer false and an empty answer. Never guess, and never use knowledge from outside the sources.',
    '- If the customer asks to talk to a person, a human or an agent: wantsHuman true.',
    "- Earlier messages of the conversation may come before the customer's latest message: use them to understand what the customer means, but answer the latest message, and take facts only from the sources, never from earlier messages.",
    ...(instructions ? ['The business adds:', instructions] : []),
  ].join('\n');
  const sources = hits.map((h, i) => `[${i + 1}] "${h.documentName}"\n${h.text}`).join('\n\n');
  return [
    { role: 'system' as const, content: system },
    ...history.map((t) => ({ role: t.role, content: t.content })),
    { role: 'user' as const, content: `Customer's message:\n${question}\n\nSources:\n${sources}` },
  ];
}

export function parseReplyAnswer(answer: string): KnowledgeReplyAnswer | undefined {
  try {
    const parsed = knowledgeReplyAnswer.safeParse(JSON.parse(answer));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
