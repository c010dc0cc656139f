/**
 * Splits a document's text into passages for retrieval: paragraphs are kept whole where they fit, packed up
 * to about `targetChars`; a paragraph longer than `maxChars` is cut between sentences (or, failing that,
 * between words). Each passage after the first begins with the end of the one before (`overlapChars` at most),
 * so a fact that straddles a boundary is still found whole in one of them. A Markdown heading starts a new
 * passage once the current one is half full, so passages follow the document's sections.
 */

export interface ChunkingOptions {
  targetChars: number;
  maxChars: number;
  overlapChars: number;
}

/** About 250 tokens a passage: small enough to be specific, large enough to carry an answer. */
export const defaultChunking: ChunkingOptions = { targetChars: 1000, maxChars: 1500, overlapChars: 150 };

const isHeading = (block: string): boolean => /^#{1,6}\s/.test(block);

/** Sentences, cut after . ! ? (and their Arabic and CJK forms) or at line breaks. */
const sentencesOf = (text: string): string[] =>
  text
    .split(/(?<=[.!?؟。！？])\s+|\n+/u)
    .map((s) => s.trim())
    .filter(Boolean);

/** Cuts a run of text longer than `max` at the last space before it, or hard at `max` when there is none. */
function cutLong(text: string, max: number): string[] {
  const out: string[] = [];
  let rest = text;
  while (rest.length > max) {
    const space = rest.lastIndexOf(' ', max);
    const at = space > max / 2 ? space : max;
    out.push(rest.slice(0, at).trim());
    rest = rest.slice(at).trim();
  }
  if (rest) out.push(rest);
  return out;
}

/** Paragraphs no longer than `max`: a longer one becomes groups of its sentences. */
function piecesOf(text: string, max: number): string[] {
  const blocks = text
    .replace(/\r\n?/g, '\n')
    .split(/\n[ \t]*\n/)
    .map((b) => b.replace(/[ \t]+\n/g, '\n').trim())
    .filter(Boolean);
  const pieces: string[] = [];
  for (const block of blocks) {
    if (block.length <= max) {
      pieces.push(block);
      continue;
    }
    let group = '';
    for (const sentence of sentencesOf(block).flatMap((s) => cutLong(s, max))) {
      if (group && group.length + 1 + sentence.length > max) {
        pieces.push(group);
        group = '';
      }
      group = group ? `${group} ${sentence}` : sentence;
    }
    if (group) pieces.push(group);
  }
  return pieces;
}

/** The end of a passage to repeat at the start of the next: whole sentences when they fit, else words. */
function tailOf(text: string, max: number): string {
  if (max <= 0) return '';
  const sentences = sentencesOf(text);
  let tail = '';
  for (let i = sentences.length - 1; i >= 0; i--) {
    const next = tail ? `${sentences[i]} ${tail}` : sentences[i];
    if (next.length > max) break;
    tail = next;
  }
  if (tail) return tail;
  const cut = text.slice(-max);
  const space = cut.indexOf(' ');
  return space >= 0 ? cut.slice(space + 1).trim() : '';
}

export function chunkText(text: string, opts: ChunkingOptions = defaultChunking): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let length = 0;
  /** Whether `current` holds more than the overlap carried over from the previous passage. */
  let fresh = false;

  const emit = (carryOver: boolean) => {
    if (!fresh) return;
    const chunk = current.join('\n\n');
    chunks.push(chunk);
    const tail = carryOver ? tailOf(chunk, opts.overlapChars) : '';
    current = tail ? [tail] : [];
    length = tail.length;
    fresh = false;
  };

  for (const piece of piecesOf(text, opts.maxChars)) {
    if (isHeading(piece) && length >= opts.targetChars / 2) emit(false);
    else if (length > 0 && length + 2 + piece.length > opts.targetChars) emit(true);
    // The carried-over tail and the piece may still exceed the maximum: then the piece stands alone.
    if (length > 0 && length + 2 + piece.length > opts.maxChars) {
      current = [];
      length = 0;
    }
    current.push(piece);
    length += (length > 0 ? 2 : 0) + piece.length;
    fresh = true;
  }
  emit(false);
  return chunks;
}
