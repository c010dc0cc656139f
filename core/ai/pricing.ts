/**
 * List prices of well-known models, in US dollars per million tokens, to estimate what a call cost. A model
 * is matched by its name or a dated variant of it (`gpt-4.1-mini-2025-04-14` is priced as `gpt-4.1-mini`);
 * a model not listed here (a local or third-party one) has no estimate: its usage is recorded with tokens
 * only. Prices change: this table is an estimate, not an invoice.
 */
const perMillion: Record<string, { input: number; output: number }> = {
  'gpt-5': { input: 1.25, output: 10 },
  'gpt-5-mini': { input: 0.25, output: 2 },
  'gpt-5-nano': { input: 0.05, output: 0.4 },
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4 },
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  'text-embedding-3-small': { input: 0.02, output: 0 },
  'text-embedding-3-large': { input: 0.13, output: 0 },
};

/** The longest listed name the model's name starts with, followed by nothing or a `-` suffix. */
function priceOf(model: string): { input: number; output: number } | undefined {
  const name = model.toLowerCase();
  let best: string | undefined;
  for (const listed of Object.keys(perMillion)) {
    if ((name === listed || name.startsWith(`${listed}-`)) && (!best || listed.length > best.length)) best = listed;
  }
  return best ? perMillion[best] : undefined;
}

/** The estimated cost of a call in US dollars, or null when the model's price is unknown. */
export function estimateCostUsd(model: string, promptTokens: number, completionTokens: number): number | null {
  const price = priceOf(model);
  if (!price) return null;
  return (promptTokens * price.input + completionTokens * price.output) / 1_000_000;
}
