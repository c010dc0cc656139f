import { keywordsOf } from './flow-answer';
import { userTexts } from './messages';
import type { InvalidKind } from './state';

/**
 * The simulator's "model" for the AI reply node (the `flowbot_knowledge_reply` schema): it answers with the
 * sentence of the numbered sources that shares the most words with the customer's message, and cites that
 * source; when no sentence has at least half of the message's words it cannot answer. Asking for a person, a human or an agent sets wantsHuman. An
 * invalid answer cites a source that does not exist. The request is the last user message; earlier user turns
 * are the customer's earlier messages, and the previous one is read together with the latest (as a model reads
 * "and how much is it?" in the light of what was asked before), so follow-ups can be tested.
 */

/** Question words and fillers: shared by almost any two texts, so they say nothing about relevance. */
const fillers = new Set('what when where which who whom whose why how your you yours do does did have has can could would will there their about much many tell know'.split(' '));

const stem = (w: string): string => (w.length > 4 ? w.replace(/(ing|ed|es|s)$/, '') : w);
const termsOf = (text: string): Set<string> => new Set(keywordsOf(text).filter((w) => !fillers.has(w)).map(stem));
const shared = (a: Set<string>, b: Set<string>): number => [...a].filter((w) => b.has(w)).length;

const asksForPerson = /\b(human|person|agent|representative|someone|somebody|operator)\b|נציג/iu;

export function knowledgeReplyAnswer(messages: unknown, invalid: InvalidKind | undefined): string {
  if (invalid === 'not_json') return 'I think you should talk to our team.';
  const turns = userTexts(messages);
  const request = turns[turns.length - 1] ?? '';
  const question = /Customer's message:\n([\s\S]*?)\n\nSources:\n/.exec(request)?.[1] ?? '';
  const previous = turns.length > 1 ? turns[turns.length - 2] : '';
  const sourcesText = request.slice(request.indexOf('\n\nSources:\n') + '\n\nSources:\n'.length);
  const sources = [...sourcesText.matchAll(/^\[(\d+)\] "[^"\n]*"\n([\s\S]*?)(?=\n\n\[\d+\] "|$(?![\s\S]))/gm)].map((m) => ({ n: Number(m[1]), text: m[2] }));

  const none = { canAnswer: false, wantsHuman: false, answer: '', sources: [] as number[] };
  if (asksForPerson.test(question)) return JSON.stringify({ ...none, wantsHuman: true });
  const terms = termsOf(`${previous}\n${question}`);
  let best: { n: number; sentence: string; score: number } | undefined;
  for (const source of sources) {
    for (const sentence of source.text.split(/(?<=[.!?])\s+|\n+/).map((s) => s.trim()).filter(Boolean)) {
      const score = shared(terms, termsOf(sentence));
      if (score > 0 && score * 2 >= terms.size && (!best || score > best.score)) best = { n: source.n, sentence, score };
    }
  }
  if (!best) return JSON.stringify(none);
  return JSON.stringify({ canAnswer: true, wantsHuman: false, answer: best.sentence, sources: [invalid ? sources.length + 7 : best.n] });
}
