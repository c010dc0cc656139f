import { setTimeout as sleep } from 'node:timers/promises';
import { graphError, httpStatusOf } from './graph-errors';
import { createOnboardingEndpoints } from './onboarding';
import { envelope, inboundWebhook, statusWebhook, type InboundRequest } from './payloads';
import { failureRatesProblem } from './random-failures';
import { newWamid, type RecordedMessage, type RecordedRejection, type SimulatorConfig, type SimulatorState } from './state';
import { createTemplateEndpoints } from './templates';
import { validateSend } from './validate-send';
import type { WebhookPoster } from './webhook-poster';

export interface SimRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON, or undefined when the body was empty or not JSON. */
  body: unknown;
  /** When the request arrived (epoch ms): what rate limits count, before the body is read. Default: now. */
  receivedAtMs?: number;
}

export interface SimResponse {
  status: number;
  body: unknown;
  /** Close the connection instead of answering (an injected `acceptThenDrop`). */
  drop?: boolean;
}

const graphMessagesPath = /^\/(v\d+\.\d+)\/([^/]+)\/messages\/?$/;
const graphTemplatesPath = /^\/v\d+\.\d+\/([^/]+)\/message_templates\/?$/;
const graphObjectPath = /^\/v\d+\.\d+\/(\d+)\/?$/;

export function createRouter(state: SimulatorState, poster: WebhookPoster) {
  /** Status chains still running, so tests can wait for quiet with GET /_sim/settled. */
  const pending = new Set<Promise<unknown>>();
  let generation = 0;

  function track(work: Promise<unknown>): void {
    const p = work.catch(() => undefined).finally(() => pending.delete(p));
    pending.add(p);
  }

  /** sent → delivered → read (or the recipient's own course, ending in failed), one after the other. */
  async function progress(message: RecordedMessage): Promise<void> {
    const started = generation;
    const behaviour = state.recipient(message.to, message.waId, (message.body.template as { name?: string } | undefined)?.name);
    const statuses = behaviour.autoStatuses ?? (behaviour.failWith ? [] : state.config.autoStatuses);
    const course = [...statuses, ...(behaviour.failWith ? (['failed'] as const) : [])];
    for (const status of course) {
      await sleep(state.config.statusDelayMs);
      if (generation !== started) return;
      await poster.post(`status:${status}`, statusWebhook(state, message, status, behaviour.failWith), message.wamid);
    }
  }

  function bearer(req: SimRequest): string | undefined {
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    return match?.[1] ?? req.query.get('access_token') ?? undefined;
  }

  const authorized = (req: SimRequest): boolean => {
    const token = bearer(req);
    return token !== undefined && (state.config.accessTokens.includes(token) || onboarding.isBusinessToken(token));
  };

  const templates = createTemplateEndpoints({ state, poster, track, generation: () => generation });
  const onboarding = createOnboardingEndpoints(state, poster.appSecret);

  function graphMessages(req: SimRequest, apiVersion: string, phoneNumberId: string): SimResponse {
    if (!authorized(req)) return graphError(190);
    const checked = validateSend(req.body);
    if (!checked.ok) return graphError(100, checked.details);
    const body = req.body as Record<string, unknown>;
    const arrivedAt = req.receivedAtMs ?? Date.now();
    const receivedAt = new Date(arrivedAt).toISOString();
    if (checked.request.kind === 'read') {
      state.reads.push({ phoneNumberId, messageId: checked.request.messageId, body, receivedAt });
      return { status: 200, body: { success: true } };
    }
    const { to, waId, type } = checked.request;
    const refuse = (code: number, reason: RecordedRejection['reason']): SimResponse => {
      state.rejections.push({ phoneNumberId, to, code, reason, at: receivedAt });
      return graphError(code);
    };
    const pair = state.pairRateAllows(phoneNumberId, waId, arrivedAt);
    if (!pair.ok) return refuse(131056, 'pair_rate');
    if (!state.takeThroughput(phoneNumberId, arrivedAt)) return refuse(130429, 'throughput');
    pair.commit();
    const failure = state.takeFailure(phoneNumberId, to, waId);
    if (failure && !failure.acceptThenDrop) {
      const code = failure.code ?? (failure.rawBody !== undefined ? (failure.httpStatus ?? 500) : 1);
      state.rejections.push({ phoneNumberId, to, code, reason: 'injected', at: receivedAt });
      if (failure.rawBody !== undefined) return { status: failure.httpStatus ?? 500, body: failure.rawBody };
      return graphError(code, failure.message, failure.httpStatus ?? httpStatusOf(code));
    }
    const random = state.randomFailures.draw();
    if (random) {
      state.rejections.push({ phoneNumberId, to, code: random.code, reason: 'random', at: receivedAt });
      return graphError(random.code, undefined, random.httpStatus);
    }
    const refused = type === 'template' ? templates.checkSend(phoneNumberId, body.template) : undefined;
    if (refused) return refused;
    if (type !== 'template' && !state.serviceWindowOpen(phoneNumberId, waId, arrivedAt)) return refuse(131047, 'window');
    const message: RecordedMessage = { wamid: newWamid(waId), phoneNumberId, apiVersion, to, waId, type, body, receivedAt };
    state.messages.push(message);
    // Statuses follow the answer (progress waits statusDelayMs first); as with Meta, they may still overtake
    // the caller's processing of it.
    track(progress(message));
    return {
      drop: failure?.acceptThenDrop,
      status: 200,
      body: {
        messaging_product: 'whatsapp',
        contacts: [{ input: to, wa_id: waId }],
        messages: [{ id: message.wamid, ...(type === 'template' ? { message_status: 'accepted' } : {}) }],
      },
    };
  }

  async function control(req: SimRequest, route: string): Promise<SimResponse | undefined> {
    const body = (req.body ?? {}) as Record<string, unknown>;
    switch (route) {
      case 'GET /_sim/health':
        return { status: 200, body: { ok: true } };
      case 'GET /_sim/messages': {
        const to = req.query.get('to');
        const line = req.query.get('phoneNumberId');
        const digits = to?.replace(/\D/g, '');
        const found = state.messages.filter((m) => (!to || m.to === to || m.waId === digits) && (!line || m.phoneNumberId === line));
        return { status: 200, body: found };
      }
      case 'DELETE /_sim/messages':
        state.messages = [];
        state.reads = [];
        state.rejections = [];
        return { status: 204, body: undefined };
      case 'GET /_sim/rejections': {
        const code = req.query.get('code');
        return { status: 200, body: state.rejections.filter((r) => !code || String(r.code) === code) };
      }
      case 'GET /_sim/reads':
        return { status: 200, body: state.reads };
      case 'GET /_sim/webhooks': {
        const messageId = req.query.get('messageId');
        const kind = req.query.get('kind');
        return { status: 200, body: state.webhooks.filter((w) => (!messageId || w.messageId === messageId) && (!kind || w.kind.startsWith(kind))) };
      }
      case 'DELETE /_sim/webhooks':
        state.webhooks = [];
        return { status: 204, body: undefined };
      case 'GET /_sim/config':
        return { status: 200, body: state.config };
      case 'POST /_sim/config': {
        const problem = failureRatesProblem(body.failureRates);
        if (problem) return { status: 400, body: { error: problem } };
        return { status: 200, body: state.configure(body as Partial<SimulatorConfig>) };
      }
      case 'POST /_sim/reset':
        generation++;
        state.reset();
        return { status: 204, body: undefined };
      case 'GET /_sim/settled':
        while (pending.size) await Promise.all([...pending]);
        return { status: 200, body: { settled: true } };
      case 'POST /_sim/inbound': {
        const inbound = body as unknown as InboundRequest;
        if (typeof inbound.from !== 'string' || typeof inbound.phoneNumberId !== 'string') {
          return { status: 400, body: { error: 'from and phoneNumberId are required' } };
        }
        const wamid = newWamid(inbound.from.replace(/\D/g, ''));
        state.customerWroteTo(inbound.phoneNumberId, inbound.from.replace(/\D/g, ''));
        let payload: Record<string, unknown>;
        try {
          payload = inboundWebhook(state, inbound, wamid);
        } catch (err) {
          return { status: 400, body: { error: (err as Error).message } };
        }
        const webhook = await poster.post('inbound', payload, wamid);
        return { status: 200, body: { wamid, webhook } };
      }
      case 'GET /_sim/templates':
        return { status: 200, body: state.templates };
      case 'POST /_sim/templates':
        return templates.seed(body);
      case 'POST /_sim/events': {
        if (typeof body.field !== 'string') return { status: 400, body: { error: 'field is required' } };
        const webhook = await poster.post(`event:${body.field}`, envelope(state.config.wabaId, body.field, body.value ?? {}));
        return { status: 200, body: { webhook } };
      }
      default:
        return undefined;
    }
  }

  return async function route(req: SimRequest): Promise<SimResponse> {
    const path = req.path.replace(/\/+$/, '') || '/';
    if (path.startsWith('/_sim/')) {
      const controlRoute = `${req.method} ${path}`;
      return (await control(req, controlRoute)) ?? onboarding.control(req, controlRoute) ?? { status: 404, body: { error: `no simulator route ${req.method} ${path}` } };
    }
    const graph = graphMessagesPath.exec(req.path);
    if (graph && req.method === 'POST') {
      const answer = graphMessages(req, graph[1], decodeURIComponent(graph[2]));
      if (state.config.sendLatencyMs > 0) await sleep(state.config.sendLatencyMs);
      return answer;
    }
    const waba = graphTemplatesPath.exec(req.path);
    const object = graphObjectPath.exec(req.path);
    if ((waba || (object && req.method === 'POST')) && !authorized(req)) return graphError(190);
    if (waba && req.method === 'GET') return templates.list(req, decodeURIComponent(waba[1]));
    if (waba && req.method === 'POST') return templates.create(req, decodeURIComponent(waba[1]));
    if (waba && req.method === 'DELETE') return templates.remove(req, decodeURIComponent(waba[1]));
    if (object && req.method === 'POST') return templates.edit(req, object[1]);
    const onboarded = onboarding.graph(req);
    if (onboarded) return onboarded;
    return graphError(2500, `Unknown path components: ${req.path}`);
  };
}
