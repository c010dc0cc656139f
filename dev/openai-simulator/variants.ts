import type { InvalidKind } from './state';

/**
 * The simulator's "model" for template variants (the `flowbot_template_variants` schema): the original body
 * between an opening and a closing sentence chosen by tone and language, so every variant keeps the
 * placeholders, reads sensibly and is the same for the same request. A repair request gets the variants it
 * names. An invalid answer breaks every other variant (a placeholder lost, a run of empty lines, a placeholder
 * alone at the end).
 */

import { userTexts } from './messages';

interface Phrases {
  openers: string[];
  closers: string[];
}

const english: Record<string, Phrases> = {
  friendly: {
    openers: ['Hi there!', 'Good news!', 'Hello!', 'Hey, quick note:', 'Great to have you with us!'],
    closers: ['Thank you!', 'Just reply here if you have any questions.', 'Have a great day!', 'We are happy to help.', 'See you soon!'],
  },
  formal: {
    openers: ['Dear customer,', 'Good day,', 'We would like to inform you:', 'Please note:', 'Greetings,'],
    closers: ['Kind regards.', 'Thank you for your attention.', 'Please contact us with any questions.', 'We appreciate your trust.', 'Sincerely, the team.'],
  },
  urgent: {
    openers: ['Important:', 'Action needed:', 'Reminder:', 'Please read now:', 'Time-sensitive:'],
    closers: ['Please act today.', 'Reply now to keep your place.', 'Do not miss it.', 'Thank you for acting quickly.', 'Reply as soon as you can.'],
  },
};

const hebrew: Phrases = {
  openers: ['שלום!', 'חדשות טובות!', 'היי,', 'רצינו לעדכן:', 'שמחים שאתם איתנו!'],
  closers: ['תודה!', 'אפשר להשיב כאן בכל שאלה.', 'יום נפלא!', 'נשמח לעזור.', 'להתראות!'],
};

function phrasesFor(tone: string, language: string): Phrases {
  if (/^(he|iw)\b|hebrew|עברית/i.test(language)) return hebrew;
  const t = tone.toLowerCase();
  return t.includes('formal') || t.includes('professional') ? english.formal : t.includes('urgent') ? english.urgent : english.friendly;
}

/** The i-th variant (0-based): opener and closer pairs, each pair different. */
function variantAt(body: string, phrases: Phrases, i: number): string {
  const { openers, closers } = phrases;
  const opener = openers[i % openers.length];
  const closer = closers[(i + Math.floor(i / openers.length)) % closers.length];
  const full = `${opener} ${body} ${closer}`;
  if (full.length <= 1024) return full;
  // A long body: only the words that still fit, keeping it inside the limit.
  const shorter = `${body} ${closer}`;
  return shorter.length <= 1024 ? shorter : body;
}

/** The first way drops the last placeholder; the second adds empty lines and ends on a lone placeholder; and so on, in turn. */
function broken(text: string, way: number): string {
  if (way % 2 === 0) {
    const all = [...text.matchAll(/\{\{[A-Za-z0-9_]+\}\}/g)];
    const last = all[all.length - 1];
    if (last?.index !== undefined) return `${text.slice(0, last.index)}soon${text.slice(last.index + last[0].length)}`;
  }
  return `${text}\n\n\n\n{{1}}`;
}

/** The content of the assistant message answering a variants request. */
export function variantsAnswer(messages: unknown, invalid: InvalidKind | undefined): string {
  if (invalid === 'not_json') return 'Here are some variants you might like!';
  const users = userTexts(messages);
  const request = users[0] ?? '';
  const body = /"""\n([\s\S]*)\n"""/.exec(request)?.[1] ?? '';
  const count = Number(/Write (\d+) variant/.exec(request)?.[1] ?? 1);
  const tone = /^Tone: (.*)$/m.exec(request)?.[1] ?? '';
  const language = /^Language: (.*)$/m.exec(request)?.[1] ?? '';
  const phrases = phrasesFor(tone, language);

  // A repair names the variants to correct; "N more" without names continues after the first answer's.
  const repair = users.length > 1 ? users[users.length - 1] : undefined;
  const named = repair && /corrected versions of variants ([\d, ]+)/.exec(repair)?.[1];
  const more = repair ? Number(/Answer with (\d+) more/.exec(repair)?.[1] ?? 0) : 0;
  const indexes = named ? named.split(',').map((n) => Number(n.trim()) - 1) : repair ? Array.from({ length: more }, (_, i) => count + i) : Array.from({ length: count }, (_, i) => i);

  const variants = indexes.map((index, position) => {
    const text = variantAt(body, phrases, index);
    return { text: invalid && position % 2 === 0 ? broken(text, position / 2) : text };
  });
  return JSON.stringify({ variants });
}
