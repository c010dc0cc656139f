/**
 * Words as full-text search sees them, the same on both sides: documents are indexed and queries are parsed
 * from text normalised here, so PostgreSQL's parser (the 'simple' configuration, which neither stems nor drops
 * stop words of any language) only ever meets clean, lower-case words. Without this, a C-locale database
 * glues curly quotes and dashes to the words next to them, and accented or pointed letters never match their
 * plain spelling.
 */

const marks = /\p{M}/gu;
const nonWord = /[^\p{L}\p{N}]+/gu;
const hebrewWord = /^\p{Script=Hebrew}+$/u;
/** One-letter Hebrew prefixes (and, the, in, to, from, that, as) written joined to the next word. */
const hebrewPrefixes = new Set(['ו', 'ה', 'ב', 'ל', 'מ', 'ש', 'כ']);
/** Longer "words" are identifiers or noise, not something a customer asks about. */
const maxWordLength = 40;

/** Lower case, accents and Hebrew points removed, everything but letters and digits a space. */
export function normaliseWords(text: string): string[] {
  return text
    .normalize('NFKD')
    .replace(marks, '')
    .toLowerCase()
    .split(nonWord)
    .filter((w) => w.length > 0 && w.length <= maxWordLength);
}

/** A Hebrew word without the prefix letter it may start with ("בשבת" → "שבת"), when enough of it is left. */
function withoutHebrewPrefix(word: string): string | null {
  return word.length >= 4 && hebrewWord.test(word) && hebrewPrefixes.has(word[0]) ? word.slice(1) : null;
}

/**
 * The text handed to to_tsvector for a chunk: its words, each Hebrew word with a prefix letter also without
 * it, so "שבת" finds "בשבת".
 */
export function searchableText(text: string): string {
  const out: string[] = [];
  for (const word of normaliseWords(text)) {
    out.push(word);
    const bare = withoutHebrewPrefix(word);
    if (bare) out.push(bare);
  }
  return out.join(' ');
}

const englishStopWords = new Set(
  (
    'a an and are as at be been but by can could do does did for from had has have how i if in into is it its ' +
    'me my no not of on or our please should so than that the their them then there these they this to too ' +
    'us was we were what when where which who whom why will with would you your yours about any some tell ' +
    'know want need get much many also just'
  ).split(' '),
);
const hebrewStopWords = new Set(
  'של את על עם זה זו זאת הוא היא הם הן אני אתה אתם אתן אנחנו לנו לכם שלנו שלכם אצלכם מה מי איך למה מתי איפה כמה יש אין לא כן גם או אם כי אבל רק עוד כל'.split(' '),
);

/** A light English stemmer for query words: "opening" finds "open", "prices" finds "price" (as a prefix). */
function englishStem(word: string): string {
  if (!/^[a-z]+$/.test(word)) return word;
  for (const suffix of ['ing', 'ies', 'es', 'ed', 's']) {
    if (word.endsWith(suffix) && word.length - suffix.length >= 4) return suffix === 'ies' ? `${word.slice(0, -3)}y` : word.slice(0, -suffix.length);
  }
  return word;
}

/**
 * The words of a question worth searching for, each as a tsquery of its forms: stop words dropped, English
 * words stemmed and matched as prefixes, Hebrew words with and without their prefix letter. Duplicates go.
 */
export function queryTerms(query: string, maxTerms = 32): string[] {
  const seen = new Set<string>();
  const terms: string[] = [];
  for (const word of normaliseWords(query)) {
    if (englishStopWords.has(word) || hebrewStopWords.has(word) || (word.length < 2 && !/\d/.test(word))) continue;
    const bare = withoutHebrewPrefix(word);
    const forms = [englishStem(word), ...(bare ? [bare] : [])];
    const key = forms.join('|');
    if (seen.has(key)) continue;
    seen.add(key);
    // Words are letters and digits only (normaliseWords), so quoting them is all tsquery syntax needs; words of
    // three letters or more also match as prefixes ("hour" finds "hours", "שבת" finds "שבתות").
    terms.push(forms.map((f) => (f.length >= 3 ? `'${f}':*` : `'${f}'`)).join(' | '));
    if (terms.length === maxTerms) break;
  }
  return terms;
}
