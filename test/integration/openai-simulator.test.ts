import OpenAI from 'openai';
import { checkGeneratedFlow, flowRequestMessages, flowResponseFormat } from '../../core/ai/flow-generation';
import { startOpenAiSimulator, type OpenAiSimulatorProcess } from '../support/openai-simulator-process';

let sim: OpenAiSimulatorProcess;
let client: OpenAI;

beforeAll(async () => {
  sim = await startOpenAiSimulator();
  client = new OpenAI({ apiKey: sim.apiKey, baseURL: sim.baseUrl, maxRetries: 0 });
});
afterAll(async () => sim?.stop());
beforeEach(async () => sim.reset());

const pizza = 'Create a customer support flow for a pizza restaurant';
const askForFlow = (prompt: string, extra: Partial<Parameters<typeof flowRequestMessages>[0]> = {}) =>
  client.chat.completions.create({ model: 'gpt-4.1-mini', messages: flowRequestMessages({ prompt, ...extra }), response_format: flowResponseFormat() });

describe('the OpenAI-compatible simulator, through the real openai client', () => {
  it('answers a structured-output request with a flow that fits the schema and passes our flow checks, the same every time', async () => {
    const first = await askForFlow(pizza);
    const content = first.choices[0].message.content!;
    const checked = checkGeneratedFlow(content);
    expect(checked).toMatchObject({ ok: true, name: 'Pizza Restaurant Flow' });
    if (!checked.ok) throw new Error('unreachable');
    expect(checked.graph.nodes.map((n) => n.type)).toEqual(['trigger_inbound', 'send_text', 'buttons', 'send_text', 'question', 'send_text', 'handoff', 'end']);
    expect(checked.graph.nodes[0].data).toEqual({ match: 'contains', keywords: ['pizza'] });
    expect((await askForFlow(pizza)).choices[0].message.content).toBe(content);
    expect(first.usage).toMatchObject({ prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number) });
    expect(first.usage!.total_tokens).toBe(first.usage!.prompt_tokens + first.usage!.completion_tokens);
  });

  it('puts the text of a document and the images of the request into the flow', async () => {
    const res = await askForFlow('Build a flow from this menu', {
      document: { name: 'menu.pdf', text: 'Margherita 12 USD\nOpen daily 11:00-23:00' },
      images: [{ contentType: 'image/png', base64: Buffer.from('fake png').toString('base64') }],
    });
    const checked = checkGeneratedFlow(res.choices[0].message.content!);
    if (!checked.ok) throw new Error(checked.errors.join('; '));
    const texts = checked.graph.nodes.flatMap((n) => (n.type === 'send_text' ? [n.data.text] : []));
    expect(texts).toContain('Margherita 12 USD\nOpen daily 11:00-23:00');
    expect(texts).toContain('We looked at your picture (image/png).');
    const [recorded] = await sim.requests('/v1/chat/completions');
    expect(JSON.stringify(recorded.body)).toContain('data:image/png;base64,');
  });

  it('makes the next answers invalid on request: a flow that fits the schema but breaks our rules, or prose', async () => {
    await sim.configure({ invalidNext: 1 });
    const broken = checkGeneratedFlow((await askForFlow(pizza)).choices[0].message.content!);
    expect(broken).toMatchObject({ ok: false, errors: [expect.stringMatching(/node "menu": .*at most 20 characters/)] });
    expect(checkGeneratedFlow((await askForFlow(pizza)).choices[0].message.content!).ok).toBe(true);

    await sim.configure({ invalidNext: 1, invalidKind: 'not_json' });
    expect(checkGeneratedFlow((await askForFlow(pizza)).choices[0].message.content!)).toMatchObject({ ok: false, errors: [expect.stringMatching(/not valid JSON/)] });
  });

  it('refuses a strict schema that OpenAI would refuse', async () => {
    const call = client.chat.completions.create({
      model: 'gpt-4.1-mini',
      messages: [{ role: 'user', content: 'hi' }],
      response_format: { type: 'json_schema', json_schema: { name: 'loose', strict: true, schema: { type: 'object', properties: { a: { type: 'string' } } } } },
    });
    await expect(call).rejects.toMatchObject({ status: 400, code: 'invalid_json_schema' });
  });

  it('answers plain chat deterministically and rejects a bad image URL', async () => {
    const res = await client.chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'When do you open?' }] });
    expect(res.choices[0].message.content).toBe('Simulated answer to: When do you open?');
    const bad = client.chat.completions.create({
      model: 'gpt-4.1-mini',
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:text/plain;base64,aGk=' } }] }],
    });
    await expect(bad).rejects.toMatchObject({ status: 400 });
  });

  it('embeds deterministically, so texts sharing words are closer than unrelated ones (float and base64 encodings)', async () => {
    const texts = ['pizza restaurant opening hours', 'opening hours of the pizza place', 'car insurance renewal'];
    const res = await client.embeddings.create({ model: 'text-embedding-3-small', input: texts });
    const [a, b, c] = res.data.map((d) => d.embedding);
    const cos = (x: number[], y: number[]) => x.reduce((s, v, i) => s + v * y[i], 0);
    expect(a).toHaveLength(256);
    expect(cos(a, b)).toBeGreaterThan(cos(a, c) + 0.3);
    const again = await client.embeddings.create({ model: 'text-embedding-3-small', input: texts[0], encoding_format: 'float', dimensions: 64 });
    expect(again.data[0].embedding).toHaveLength(64);
    expect(res.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it('answers 401 with OpenAI’s error body to a wrong key, and records every request for inspection', async () => {
    const wrong = new OpenAI({ apiKey: 'sk-wrong-key-9999', baseURL: sim.baseUrl, maxRetries: 0 });
    await expect(wrong.chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({
      status: 401,
      code: 'invalid_api_key',
      error: { message: expect.stringContaining('Incorrect API key provided: ****9999'), type: 'invalid_request_error' },
    });
    const requests = await sim.requests();
    expect(requests).toEqual([expect.objectContaining({ path: '/v1/chat/completions', status: 401, apiKey: '****9999', model: 'gpt-4.1-mini' })]);
  });

  it('fails the next requests as configured (429, 500), then answers again', async () => {
    await sim.configure({ failNext: [{ status: 429, code: 'rate_limit_exceeded' }, { status: 500 }] });
    const ask = () => client.chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'hi' }] });
    await expect(ask()).rejects.toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    await expect(ask()).rejects.toMatchObject({ status: 500 });
    await expect(ask()).resolves.toMatchObject({ choices: [{ message: { content: 'Simulated answer to: hi' } }] });
  });
});
