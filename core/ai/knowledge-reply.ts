/**
 * The AI reply node's contract with its activities (types and plain functions only: the journey workflow
 * imports this file, so it must stay free of I/O and of anything non-deterministic).
 */

/** Why the node handed the customer to an agent instead of answering. */
export const handoffReasons = [
  /** The customer asked for a person (a keyword of the node, or the model noticed). */
  'asked_for_person',
  /** Nothing in the knowledge base matched well enough. */
  'no_knowledge',
  /** The model found no answer in what was retrieved, or answered without citing it. */
  'cannot_answer',
  /** The tenant's monthly AI budget is used up. */
  'over_budget',
  /** No AI provider is configured for the tenant. */
  'not_configured',
  /** The provider kept failing. */
  'ai_unavailable',
] as const;
export type HandoffReason = (typeof handoffReasons)[number];

/** A knowledge-base passage an answer was drawn from. */
export interface KnowledgeCitation {
  documentId: string;
  documentName: string;
  chunkId: string;
  chunkIndex: number;
  score: number;
}

export interface KnowledgeReplyInput {
  tenantId: string;
  question: string;
  /** The flow author's extra instructions (tone, persona, what not to discuss). */
  instructions?: string;
  maxSources: number;
  /** Passages scoring below this are not given to the model; none left means a hand-off. */
  minScore: number;
  /** Names the call in the usage rows: `journey/<workflow id>/<node id>`. */
  reference: string;
  /** The journey's conversation, whose recent messages the model sees (none when absent). */
  conversation?: { channel: string; lineId: string; contact: string };
}

export type KnowledgeReplyResult =
  | { outcome: 'answer'; answer: string; citations: KnowledgeCitation[]; provider: string; model: string }
  | { outcome: 'handoff'; reason: HandoffReason };

export interface RecordKnowledgeReplyInput {
  tenantId: string;
  messageId: string;
  citations: KnowledgeCitation[];
  provider: string;
  model: string;
}

/** Customers ask for a person in these words; the node's own list replaces them. */
export const defaultHandoffKeywords = [
  'agent',
  'human',
  'real person',
  'a person',
  'representative',
  'operator',
  'talk to someone',
  'speak to someone',
  'נציג',
  'נציגה',
  'בן אדם',
];

const words = (text: string): string => ` ${text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean).join(' ')} `;

/** Whether the message contains one of the keywords as whole words ("agent" matches "an agent please", not "agenda"). */
export function asksForPerson(message: string, keywords: readonly string[]): boolean {
  const text = words(message);
  return keywords.some((k) => {
    const keyword = words(k);
    return keyword.trim() !== '' && text.includes(keyword);
  });
}
