/** Embedding vectors as stored (L2-normalised, so cosine similarity is a dot product) and as SQL sees them. */

/** The vector scaled to length 1; null when it has no direction or is not a vector of finite numbers. */
export function normalise(vector: ArrayLike<number>): number[] | null {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) {
    const v = vector[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) return null;
    sum += v * v;
  }
  const norm = Math.sqrt(sum);
  if (vector.length === 0 || norm === 0) return null;
  return Array.from(vector, (v) => v / norm);
}

/**
 * A PostgreSQL array literal, bound as one parameter and cast with `::real[]`: the query builder would spread a
 * JavaScript array into a list of parameters.
 */
export const vectorLiteral = (vector: number[]): string => `{${vector.join(',')}}`;
