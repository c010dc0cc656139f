import { classifyGraphError, classifyNetworkError } from './errors';

export interface GraphOptions {
  /** e.g. https://graph.facebook.com, or the simulator's URL. */
  graphUrl: string;
  /** e.g. v25.0 */
  apiVersion: string;
  fetch?: typeof fetch;
  /** Per request; default 15 s. */
  timeoutMs?: number;
}

export type GraphRequest = (
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  accessToken: string,
  opts?: { query?: Record<string, string | undefined>; body?: unknown },
) => Promise<unknown>;

/**
 * One Graph API call: `{graphUrl}/{version}/{path}` with the bearer token. Answers the parsed JSON; throws a
 * classified ChannelSendError for any failure, so every caller handles errors the same way.
 */
export function graphRequest(opts: GraphOptions): GraphRequest {
  const doFetch = opts.fetch ?? fetch;
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const base = `${opts.graphUrl.replace(/\/+$/, '')}/${opts.apiVersion}`;

  return async (method, path, accessToken, { query, body } = {}) => {
    const search = new URLSearchParams(Object.entries(query ?? {}).filter((e): e is [string, string] => e[1] !== undefined)).toString();
    let res: Response;
    let text: string;
    try {
      res = await doFetch(`${base}/${path}${search ? `?${search}` : ''}`, {
        method,
        headers: { authorization: `Bearer ${accessToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      throw classifyNetworkError(err);
    }
    let json: unknown = text;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      // Proxies and outages answer HTML; the status alone then classifies it.
    }
    if (!res.ok) throw classifyGraphError(res.status, json, res.headers.get('retry-after'));
    return json;
  };
}
