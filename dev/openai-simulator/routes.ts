import { setTimeout as sleep } from 'node:timers/promises';
import { embed, toBase64, tokensOf } from './embeddings';
import { structuredAnswer, textAnswer, type ChatRequestText } from './flow-answer';
import { strictSchemaProblems, type Schema } from './json-schema';
import { knowledgeReplyAnswer } from './knowledge-reply';
import { variantsAnswer } from './variants';
import { maskKey, type SimulatorConfig, type SimulatorState } from './state';

export interface SimRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON, or undefined when the body was empty or not JSON. */
  body: unknown;
}

export interface SimResponse {
  status: number;
  body: unknown;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** OpenAI's error body: `{error: {message, type, param, code}}`. */
function openAiError(status: number, message: string, extra: { type?: string; param?: string | null; code?: string | null } = {}): SimResponse {
  const type = extra.type ?? (status === 401 ? 'invalid_request_error' : status === 429 ? 'requests' : status >= 500 ? 'server_error' : 'invalid_request_error');
  return { status, body: { error: { message, type, param: extra.param ?? null, code: extra.code ?? null } } };
}

interface ChatMessage {
  role: string;
  content: unknown;
}

const imageUrlPattern = /^data:(image\/(?:png|jpeg|gif|webp));base64,[A-Za-z0-9+/=]+$/;

/** Checks the messages as OpenAI does (roles, content parts, image URLs) and reads the request out of them. */
function readMessages(messages: unknown): { ok: true; text: ChatRequestText; inputChars: number; imageCount: number } | { ok: false; error: SimResponse } {
  if (!Array.isArray(messages) || messages.length === 0) return { ok: false, error: openAiError(400, "'messages' must be a non-empty array", { param: 'messages' }) };
  let prompt: string | undefined;
  let document = '';
  const images: string[] = [];
  let inputChars = 0;
  for (const [i, raw] of messages.entries()) {
    const m = raw as ChatMessage;
    if (!isRecord(m) || !['system', 'developer', 'user', 'assistant', 'tool'].includes(m.role as string)) {
      return { ok: false, error: openAiError(400, `Invalid value for 'messages[${i}].role'`, { param: `messages[${i}].role` }) };
    }
    const parts = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : Array.isArray(m.content) ? (m.content as unknown[]) : null;
    if (!parts) return { ok: false, error: openAiError(400, `Invalid type for 'messages[${i}].content'`, { param: `messages[${i}].content` }) };
    const texts: string[] = [];
    for (const [j, part] of parts.entries()) {
      const p = part as Record<string, unknown>;
      if (p?.type === 'text' && typeof p.text === 'string') {
        texts.push(p.text);
        inputChars += p.text.length;
      } else if (p?.type === 'image_url' && m.role === 'user') {
        const url = isRecord(p.image_url) ? p.image_url.url : undefined;
        if (typeof url !== 'string') return { ok: false, error: openAiError(400, `Missing 'messages[${i}].content[${j}].image_url.url'`) };
        const match = imageUrlPattern.exec(url);
        if (!match && !/^https?:\/\//.test(url)) {
          return { ok: false, error: openAiError(400, 'Invalid image URL: expected a base64 data URL of a png, jpeg, gif or webp image, or an http(s) URL', { code: 'invalid_image_url' }) };
        }
        images.push(match ? match[1] : 'url');
      } else {
        return { ok: false, error: openAiError(400, `Invalid content part at 'messages[${i}].content[${j}]'`) };
      }
    }
    if (m.role === 'user' && prompt === undefined) {
      prompt = texts[0] ?? '';
      document = texts.slice(1).join('\n');
    }
  }
  return { ok: true, text: { prompt: prompt ?? '', document, images }, inputChars, imageCount: images.length };
}

export function createRouter(state: SimulatorState) {
  function apiKeyOf(req: SimRequest): string | undefined {
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    return match?.[1];
  }

  function unauthorized(key: string | undefined): SimResponse {
    return openAiError(401, key ? `Incorrect API key provided: ${maskKey(key)}. You can find your API key at https://platform.openai.com/account/api-keys.` : "You didn't provide an API key.", {
      code: key ? 'invalid_api_key' : null,
    });
  }

  function chatCompletions(body: Record<string, unknown>): SimResponse {
    if (typeof body.model !== 'string' || !body.model) return openAiError(400, "you must provide a model parameter", { param: 'model' });
    const read = readMessages(body.messages);
    if (!read.ok) return read.error;
    const format = body.response_format as { type?: string; json_schema?: { name?: string; schema?: Schema; strict?: boolean } } | undefined;
    let content: string;
    if (format?.type === 'json_schema') {
      const js = format.json_schema;
      if (!js?.name || !isRecord(js.schema)) return openAiError(400, "Missing required parameter: 'response_format.json_schema.schema'", { param: 'response_format' });
      if (js.strict) {
        const problems = strictSchemaProblems(js.schema);
        if (problems.length) {
          return openAiError(400, `Invalid schema for response_format '${js.name}': In context=(), ${problems[0]}`, { param: 'response_format', code: 'invalid_json_schema' });
        }
      }
      // FlowBot's other structured requests, told apart by the schema's name.
      if (js.name === 'flowbot_template_variants') content = variantsAnswer(body.messages, state.takeInvalid());
      else if (js.name === 'flowbot_knowledge_reply') content = knowledgeReplyAnswer(body.messages, state.takeInvalid());
      else content = structuredAnswer(js.schema, read.text, state.takeInvalid());
    } else if (format?.type === 'json_object') {
      content = JSON.stringify({ answer: textAnswer(read.text) });
    } else {
      content = textAnswer(read.text);
    }
    const promptTokens = tokensOf('x'.repeat(read.inputChars)) + read.imageCount * 85 + 8 * (body.messages as unknown[]).length;
    const completionTokens = tokensOf(content);
    return {
      status: 200,
      body: {
        id: `chatcmpl-sim-${state.requests.length + 1}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: 'stop' }],
        usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
        system_fingerprint: 'fp_simulator',
      },
    };
  }

  function embeddings(body: Record<string, unknown>): SimResponse {
    if (typeof body.model !== 'string' || !body.model) return openAiError(400, 'you must provide a model parameter', { param: 'model' });
    const inputs = typeof body.input === 'string' ? [body.input] : Array.isArray(body.input) && body.input.every((x) => typeof x === 'string') ? (body.input as string[]) : null;
    if (!inputs || inputs.length === 0) return openAiError(400, "'input' must be a string or a non-empty array of strings", { param: 'input' });
    const dimensions = body.dimensions === undefined ? state.config.embeddingDimensions : Number(body.dimensions);
    if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > 4096) return openAiError(400, "'dimensions' must be an integer from 1 to 4096", { param: 'dimensions' });
    const base64 = body.encoding_format === 'base64';
    const tokens = inputs.reduce((sum, text) => sum + tokensOf(text), 0);
    return {
      status: 200,
      body: {
        object: 'list',
        data: inputs.map((text, index) => {
          const vector = embed(text, dimensions);
          return { object: 'embedding', index, embedding: base64 ? toBase64(vector) : vector };
        }),
        model: body.model,
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      },
    };
  }

  async function api(req: SimRequest, handler: (body: Record<string, unknown>) => SimResponse): Promise<SimResponse> {
    const key = apiKeyOf(req);
    const body = isRecord(req.body) ? req.body : undefined;
    const record = (res: SimResponse, answer?: string) =>
      state.record({ method: req.method, path: req.path, apiKey: key ? maskKey(key) : null, model: typeof body?.model === 'string' ? body.model : null, body: req.body, status: res.status, answer });
    let res: SimResponse;
    if (!key || !state.config.apiKeys.includes(key)) res = unauthorized(key);
    else if (!body) res = openAiError(400, 'We could not parse the JSON body of your request.');
    else {
      const failure = state.takeFailure();
      if (failure) {
        res = openAiError(failure.status, failure.message ?? `Simulated failure (${failure.status})`, { code: failure.code ?? null });
      } else {
        res = handler(body);
      }
    }
    if (state.config.latencyMs > 0) await sleep(state.config.latencyMs);
    const choice = (res.body as { choices?: Array<{ message: { content: string } }> }).choices?.[0];
    record(res, choice?.message.content);
    return res;
  }

  return async function route(req: SimRequest): Promise<SimResponse> {
    const { method, path } = req;
    if (method === 'POST' && path === '/v1/chat/completions') return api(req, chatCompletions);
    if (method === 'POST' && path === '/v1/embeddings') return api(req, embeddings);
    if (method === 'GET' && path === '/v1/models') {
      const key = apiKeyOf(req);
      if (!key || !state.config.apiKeys.includes(key)) return unauthorized(key);
      return { status: 200, body: { object: 'list', data: ['gpt-4.1-mini', 'gpt-4.1', 'text-embedding-3-small'].map((id) => ({ id, object: 'model', created: 0, owned_by: 'simulator' })) } };
    }

    // The control API, for tests and for trying things by hand.
    if (method === 'GET' && path === '/_sim/requests') {
      const only = req.query.get('path');
      return { status: 200, body: only ? state.requests.filter((r) => r.path === only) : state.requests };
    }
    if (method === 'GET' && path === '/_sim/config') return { status: 200, body: state.config };
    if (method === 'POST' && path === '/_sim/config') {
      if (!isRecord(req.body)) return { status: 400, body: { error: 'send a JSON object of settings' } };
      return { status: 200, body: state.configure(req.body as Partial<SimulatorConfig>) };
    }
    if (method === 'POST' && path === '/_sim/reset') {
      state.reset();
      return { status: 204, body: undefined };
    }
    return openAiError(404, `Unknown request URL: ${method} ${path}.`, { code: 'unknown_url' });
  };
}
