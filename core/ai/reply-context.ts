import { queryTerms } from '../knowledge/text';

/**
 * What the AI reply node knows of the conversation before the customer's latest message: the recent messages
 * of its thread, given to the model as prior chat turns, and the rule that reads a short follow-up together
 * with the customer's previous message when searching the knowledge base ("and how much does it cost?" after
 * "tell me about the Weekend Box" must find the Weekend Box passage, not any price at all).
 */

/** A message of the conversation, as stored: the customer's ('in') or ours, by the bot or an agent ('out'). */
export interface ConversationMessage {
  direction: 'in' | 'out';
  text: string;
}

export interface PriorTurn {
  role: 'user' | 'assistant';
  content: string;
}

/**
 * How much of the conversation the model sees: the newest messages of the last day (WhatsApp's service
 * window; older ones belong to another visit), each cut to `messageChars`, as many as fit in `totalChars`.
 * Enough for a follow-up to make sense, little enough that the cost per answer stays flat.
 */
export const historyLimits = { messages: 10, totalChars: 4000, messageChars: 1000, maxAgeHours: 24 } as const;

/** A message with fewer words worth searching for than this is a follow-up, searched with the one before it. */
export const followUpMaxTerms = 3;

const cut = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/**
 * The prior turns for the model, oldest first, from the conversation's messages newest first (at most
 * `historyLimits.messages` of them): the customer's are `user` turns, ours `assistant` turns. The oldest go
 * first when they do not fit in `historyLimits.totalChars`.
 */
export function priorTurns(newestFirst: readonly ConversationMessage[]): PriorTurn[] {
  const turns: PriorTurn[] = [];
  let chars = 0;
  for (const m of newestFirst.slice(0, historyLimits.messages)) {
    const content = cut(m.text.trim(), historyLimits.messageChars);
    if (!content) continue;
    if (chars + content.length > historyLimits.totalChars) break;
    chars += content.length;
    turns.unshift({ role: m.direction === 'in' ? 'user' : 'assistant', content });
  }
  return turns;
}

/**
 * What the knowledge base is searched for: the customer's message, and when it has fewer than
 * `followUpMaxTerms` words worth searching for (a follow-up such as "and how much is it?"), their previous
 * message in front of it, so the passage about what they were asking about is found.
 */
export function searchQuery(question: string, turns: readonly PriorTurn[]): string {
  if (queryTerms(question).length >= followUpMaxTerms) return question;
  const previous = turns.findLast((t) => t.role === 'user');
  return previous ? `${previous.content}\n${question}` : question;
}
