import { z } from 'zod';
import { defaultHandoffKeywords } from '../../ai/knowledge-reply';
import { nodeSchema } from './common';

/**
 * AI reply: answers the customer from the tenant's knowledge base (retrieval, then the reply model), cites the
 * documents it used on the message, and leaves through `handoff` instead when it is not confident, when the
 * customer asks for a person, or when the AI budget is used up. Exits: answered, handoff (left unconnected,
 * the journey waits for an agent, as after a hand-off node).
 */
export const aiReply = nodeSchema(
  'ai_reply',
  z.object({
    /** Sent first; the node then waits for the customer's question. Without it the node answers `question` at once. */
    prompt: z.string().min(1, 'must not be empty').max(1024, 'must be at most 1024 characters').optional(),
    /** What to answer when there is no prompt; `{{variable}}` placeholders are filled in. */
    question: z.string().min(1, 'must not be empty').max(4096).default('{{lastMessage}}'),
    /** Added to the model's instructions: tone, persona, what not to talk about. */
    instructions: z.string().max(2000, 'must be at most 2000 characters').optional(),
    /** How many knowledge-base passages the model is given. */
    maxSources: z.number().int().min(1).max(10).default(4),
    /**
     * Passages scoring below this (0 to 1: the share of the message's words they contain, averaged with their
     * likeness in meaning when the tenant has embeddings) do not count; when none is left the node hands off.
     */
    minScore: z.number().min(0).max(1).default(0.2),
    /** A message containing one of these (whole words, any case) goes straight to an agent. */
    handoffKeywords: z.array(z.string().trim().min(1).max(100)).max(50).default(defaultHandoffKeywords),
    /** Told to the customer before a hand-off. */
    handoffMessage: z.string().max(1024, 'must be at most 1024 characters').optional(),
  }),
);
