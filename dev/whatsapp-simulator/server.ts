import http from 'node:http';
import { createRouter, type SimRequest } from './routes';
import { defaultConfig, SimulatorState } from './state';
import { WebhookPoster } from './webhook-poster';
import { readJsonBody } from '../simulators/read-json-body';
import { listen } from '../simulators/serve';

export interface SimulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** Where webhooks go; can be set later with POST /_sim/config {webhookUrl}. */
  webhookUrl?: string;
  /** Signs webhooks (X-Hub-Signature-256), like Meta's app secret. */
  appSecret: string;
  /** The bearer token the Graph endpoints accept. */
  accessToken: string;
  wabaId?: string;
  /** The Meta app's id, for Embedded Signup's code exchange; default defaultSimulatorAppId. */
  appId?: string;
}

export interface RunningSimulator {
  /** Base URL: use it as WHATSAPP_GRAPH_URL; the control API is under {url}/_sim/. */
  url: string;
  port: number;
  state: SimulatorState;
  close(): Promise<void>;
}

const maxBodyBytes = 5 * 1024 * 1024;

const readBody = (req: http.IncomingMessage): Promise<unknown> => readJsonBody(req, maxBodyBytes);

/** A local stand-in for the WhatsApp Cloud API (graph.facebook.com) plus a control API for tests. */
export async function startSimulator(opts: SimulatorOptions): Promise<RunningSimulator> {
  const state = new SimulatorState(() => defaultConfig(opts));
  const route = createRouter(state, new WebhookPoster(state, opts.appSecret));

  const server = http.createServer(async (req, res) => {
    const receivedAtMs = Date.now();
    try {
      const url = new URL(req.url ?? '/', 'http://simulator');
      const simReq: SimRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body: await readBody(req), receivedAtMs };
      const { status, body, drop } = await route(simReq);
      if (drop) {
        res.destroy();
      } else if (body === undefined) {
        res.writeHead(status).end();
      } else if (typeof body === 'string') {
        res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' }).end(body);
      } else {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      }
    } catch (err) {
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: (err as Error).message }));
    }
  });

  const { url, port, close } = await listen(server, opts);
  return { url, port, state, close };
}
