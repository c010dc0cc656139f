import { ApplicationFailure } from '@temporalio/common';
import OpenAI, { APIConnectionError, APIError } from 'openai';
import { aiFailureTypes } from '../../core/ai/activities';
import type { ResolvedProvider } from '../../core/ai/providers';
import { refusalBehind } from '../../core/net/outbound-guard';

/**
 * The openai client for a resolved provider. Its own retries are off: the activity's retry policy (Temporal)
 * is the one place that retries, with backoff, and it survives a worker restart.
 */
export function clientFor(provider: ResolvedProvider, opts: { timeoutMs: number; tenantFetch: typeof fetch }): OpenAI {
  return new OpenAI({
    // An account's own provider is a URL the account chose: the installation's outbound policy applies to it.
    fetch: provider.providerId === null ? undefined : opts.tenantFetch,
    // Some OpenAI-compatible servers need no key; the client insists on one.
    apiKey: provider.apiKey ?? 'no-key',
    baseURL: provider.baseUrl,
    maxRetries: 0,
    timeout: opts.timeoutMs,
  });
}

/**
 * A provider's error as an activity failure: a refused key, an exhausted quota or a refused request are
 * final (non-retryable, typed so the API can say what happened); rate limits, server errors and network
 * trouble are retried, a 429's Retry-After respected.
 */
export function providerFailure(err: unknown, provider: ResolvedProvider): ApplicationFailure {
  const where = `${provider.name} (${provider.baseUrl}, model ${provider.model})`;
  const refused = refusalBehind(err);
  if (refused) return ApplicationFailure.nonRetryable(`${where} cannot be called: ${refused.message}`, aiFailureTypes.rejected);
  if (err instanceof APIConnectionError) {
    return ApplicationFailure.create({ message: `Could not reach ${where}: ${err.message}`, type: aiFailureTypes.transient });
  }
  if (err instanceof APIError) {
    const detail = err.message.replace(/^\d{3}\s*/, '');
    const status = err.status ?? 0;
    if (status === 401 || status === 403) {
      return ApplicationFailure.nonRetryable(`${where} refused the API key (${status}): ${detail}`, aiFailureTypes.auth);
    }
    if (status === 429 && err.code === 'insufficient_quota') {
      return ApplicationFailure.nonRetryable(`${where} has no quota left: ${detail}`, aiFailureTypes.quota);
    }
    if (status === 429 || status === 408 || status === 409 || status >= 500) {
      const retryAfter = Number(err.headers?.get('retry-after'));
      return ApplicationFailure.create({
        message: `${where} answered ${status}: ${detail}`,
        type: aiFailureTypes.transient,
        ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { nextRetryDelay: `${Math.min(retryAfter, 60)} seconds` } : {}),
      });
    }
    return ApplicationFailure.nonRetryable(`${where} refused the request (${status}): ${detail}`, aiFailureTypes.rejected);
  }
  return ApplicationFailure.create({ message: `${where} failed: ${(err as Error)?.message ?? String(err)}`, type: aiFailureTypes.transient });
}
