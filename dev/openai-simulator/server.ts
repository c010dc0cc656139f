import http from 'node:http';
import { createRouter, type SimRequest } from './routes';
import { SimulatorState, type SimulatorConfig } from './state';
import { readJsonBody } from '../simulators/read-json-body';
import { listen } from '../simulators/serve';

export interface SimulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** Bearer keys the API accepts. */
  apiKeys: string[];
}

export interface RunningSimulator {
  /** Base URL of the API, as OpenAI's `https://api.openai.com/v1`: give it to the openai client as baseURL. */
  baseUrl: string;
  /** Origin; the control API is under {url}/_sim/. */
  url: string;
  port: number;
  state: SimulatorState;
  close(): Promise<void>;
}

/** Images travel as base64 data URLs inside the JSON, so bodies can be large. */
const maxBodyBytes = 32 * 1024 * 1024;

const readBody = (req: http.IncomingMessage): Promise<unknown> => readJsonBody(req, maxBodyBytes);

export const defaultConfig = (opts: SimulatorOptions): SimulatorConfig => ({
  apiKeys: [...opts.apiKeys],
  invalidNext: 0,
  invalidKind: 'invalid_flow',
  failNext: [],
  latencyMs: 0,
  embeddingDimensions: 256,
});

/** A local stand-in for OpenAI's API (chat completions with structured output and images, embeddings). */
export async function startSimulator(opts: SimulatorOptions): Promise<RunningSimulator> {
  const state = new SimulatorState(() => defaultConfig(opts));
  const route = createRouter(state);

  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://simulator');
      const simReq: SimRequest = { method: req.method ?? 'GET', path: url.pathname.replace(/\/+$/, '') || '/', query: url.searchParams, headers: req.headers, body: await readBody(req) };
      const { status, body } = await route(simReq);
      if (body === undefined) res.writeHead(status).end();
      else res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': `req_sim_${state.requests.length}` }).end(JSON.stringify(body));
    } catch (err) {
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: (err as Error).message, type: 'server_error', param: null, code: null } }));
    }
  });

  const { url, port, close } = await listen(server, opts);
  return { baseUrl: `${url}/v1`, url, port, state, close };
}
