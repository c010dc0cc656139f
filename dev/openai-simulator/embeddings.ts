import { createHash } from 'node:crypto';
import { keywordsOf } from './flow-answer';

/**
 * Deterministic embeddings: a hashed bag of words, L2-normalised. Texts sharing words point the same way, so
 * cosine similarity ranks "opening hours of the shop" close to "when does the shop open" only through
 * shared words — enough for retrieval tests, and the same text always gets the same vector.
 */
export function embed(text: string, dimensions: number): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  for (const word of keywordsOf(text)) {
    const digest = createHash('sha256').update(word).digest();
    const index = digest.readUInt32BE(0) % dimensions;
    vector[index] += digest[4] & 1 ? 1 : -1;
  }
  const norm = Math.hypot(...vector);
  // An empty text still gets a unit vector, as a real model's would be.
  if (norm === 0) {
    vector[0] = 1;
    return vector;
  }
  return vector.map((v) => v / norm);
}

/** As OpenAI answers `encoding_format: "base64"` (the openai client's default): little-endian float32. */
export function toBase64(vector: number[]): string {
  return Buffer.from(new Float32Array(vector).buffer).toString('base64');
}

/** A rough token count (about four characters a token), the same for every call. */
export const tokensOf = (text: string): number => Math.ceil(text.length / 4);
