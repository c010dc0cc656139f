import { refusalBehind } from '../../core/net/outbound-guard';

type CallHttpInput = {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  timeoutSeconds: number;
};

/**
 * The HTTP request node. A non-2xx answer is a result (the flow takes its `error` exit), not a failure;
 * so is a URL the installation's outbound policy refuses (retrying would not change it). Only a network error
 * or timeout is thrown, so Temporal retries it. `fetch` applies that policy (core/net/outbound-guard.ts).
 */
export function callHttpActivity(deps: { fetch: typeof fetch }) {
  return async function callHttp(input: CallHttpInput): Promise<{ ok: boolean; status: number; data: unknown }> {
    const url = new URL(input.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, status: 0, data: { error: `unsupported protocol ${url.protocol}` } };
    let res: Response;
    try {
      res = await deps.fetch(url, {
        method: input.method,
        headers: input.body !== undefined && !hasHeader(input.headers, 'content-type') ? { 'content-type': 'application/json', ...input.headers } : input.headers,
        body: input.method === 'GET' ? undefined : input.body,
        signal: AbortSignal.timeout(input.timeoutSeconds * 1000),
      });
    } catch (err) {
      const refused = refusalBehind(err);
      if (refused) return { ok: false, status: 0, data: { error: refused.message } };
      throw err;
    }
    const text = (await res.text()).slice(0, 256 * 1024);
    let data: unknown = text;
    try {
      data = JSON.parse(text);
    } catch {
      // Not JSON: the mapping can still read the text as a whole.
    }
    return { ok: res.ok, status: res.status, data };
  };
}

const hasHeader = (headers: Record<string, string>, name: string) => Object.keys(headers).some((k) => k.toLowerCase() === name);
