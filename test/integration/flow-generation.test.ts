import { fromDrawflow, toDrawflow } from '../../core/flow/drawflow';
import { layoutSpacing } from '../../core/flow/layout';
import { signedInAccount, type TestAccount } from '../support/accounts';
import { eventually, openJourneyStack, type JourneyStack } from '../support/journey-stack';
import { startInProcessWorker } from '../support/in-process-worker';
import { startOpenAiSimulator, type OpenAiSimulatorProcess } from '../support/openai-simulator-process';
import { openTestStack } from '../support/stack';
import { tinyPdf, tinyPng } from '../support/tiny-pdf';

let js: JourneyStack;
let ai: OpenAiSimulatorProcess;

beforeAll(async () => {
  [js, ai] = await Promise.all([openJourneyStack(), startOpenAiSimulator()]);
}, 60_000);
afterAll(async () => {
  await ai?.stop();
  await js?.close();
});
beforeEach(async () => ai.reset());

/** The account's own provider: the simulator, as an OpenAI-compatible endpoint. */
async function useSimulator(account: TestAccount, apiKey = ai.apiKey): Promise<void> {
  const res = await account.agent.post('/api/settings/ai').send({ name: 'Simulator', kind: 'openai_compatible', baseUrl: ai.baseUrl, apiKey });
  expect(res.status).toBe(201);
}

async function freshAccount(): Promise<TestAccount> {
  const account = await signedInAccount(js.stack);
  await useSimulator(account);
  return account;
}

const generate = (account: TestAccount, prompt: string, file?: { data: Buffer; name: string; type: string }) => {
  const req = account.agent.post('/api/flows/generate').field('prompt', prompt);
  return file ? req.attach('file', file.data, { filename: file.name, contentType: file.type }) : req;
};

const sql = <T>(query: string, params: unknown[] = []) => js.stack.orm.em.getConnection().execute<T[]>(query, params);
const flowCount = async (tenantId: string) => Number((await sql<{ n: string }>(`select count(*) as n from flows where tenant_id = ?`, [tenantId]))[0].n);
const chatRequests = () => ai.requests('/v1/chat/completions');

describe('POST /api/flows/generate', () => {
  it('generates a draft flow from a prompt, in the seed’s shape, laid out left to right, that publishes and runs on the engine', async () => {
    const owner = js.owner;
    await useSimulator(owner);
    const res = await generate(owner, 'Create a customer support flow for a pizza restaurant');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      success: true,
      flow: { id: expect.any(String), name: 'Pizza Restaurant Flow', status: 'draft', drawflowData: { drawflow: { Home: { data: expect.any(Object) } } } },
      nodeCount: 8,
      message: 'Flow generated with 8 nodes',
    });

    // The model was asked for our schema with strict structured output, by the account's provider.
    const [request] = await chatRequests();
    expect(request).toMatchObject({ model: 'gpt-4.1-mini', apiKey: `****${ai.apiKey.slice(-4)}`, status: 200 });
    expect((request.body as { response_format: unknown }).response_format).toMatchObject({ type: 'json_schema', json_schema: { name: 'flowbot_flow', strict: true } });

    // Saved as a draft whose Drawflow document round-trips to the stored graph.
    const stored = await owner.agent.get(`/api/flows/${res.body.flow.id}`);
    expect(stored.body).toMatchObject({ status: 'draft', name: 'Pizza Restaurant Flow', latestVersion: null });
    expect(fromDrawflow(res.body.flow.drawflowData)).toEqual(stored.body.graph);
    expect(toDrawflow(fromDrawflow(res.body.flow.drawflowData))).toEqual(res.body.flow.drawflowData);

    // Tidy: one column per step from the trigger, no two nodes on the same spot.
    const x = Object.fromEntries((stored.body.graph.nodes as Array<{ id: string; position: { x: number; y: number } }>).map((n) => [n.id, n.position.x]));
    const column = (c: number) => layoutSpacing.marginX + c * layoutSpacing.column;
    expect(x).toEqual({ start: column(0), welcome: column(1), menu: column(2), info: column(3), ask_name: column(3), agent: column(3), thanks: column(4), done: column(4) });
    const spots = stored.body.graph.nodes.map((n: { position: { x: number; y: number } }) => `${n.position.x},${n.position.y}`);
    expect(new Set(spots).size).toBe(spots.length);

    // Publish it through the API, activate it, and a customer's message starts it on the real engine.
    expect((await owner.agent.post(`/api/flows/${res.body.flow.id}/versions`)).status).toBe(201);
    expect((await owner.agent.put(`/api/flows/${res.body.flow.id}`).send({ status: 'active' })).status).toBe(200);
    const phone = `97252${String(Date.now() % 10_000_000).padStart(7, '0')}`;
    await js.sim.inbound({ from: phone, phoneNumberId: js.line.phoneNumberId, text: 'Do you deliver pizza?', name: 'Noa' });
    const sent = await eventually(async () => {
      const messages = await js.sim.messages({ to: phone });
      return messages.length >= 2 ? messages.map((m) => m.body) : undefined;
    }, 'the welcome and the menu');
    expect(sent[0]).toMatchObject({ type: 'text', text: { body: 'Welcome to Pizza Restaurant!' } });
    expect(sent[1]).toMatchObject({ type: 'interactive', interactive: { type: 'button', body: { text: 'How can we help you?' } } });

    // The call's tokens are recorded for the tenant, with a cost estimate for a known model.
    const usage = await sql<{ purpose: string; model: string; prompt_tokens: number; completion_tokens: number; total_tokens: number; cost_usd: number; provider_name: string }>(
      `select * from ai_usage where tenant_id = ?`,
      [owner.user.tenantId],
    );
    const body = (await chatRequests())[0];
    expect(usage).toEqual([
      expect.objectContaining({ purpose: 'generation', model: 'gpt-4.1-mini', provider_name: 'Simulator', completion_tokens: Math.ceil(body.answer!.length / 4) }),
    ]);
    expect(usage[0].total_tokens).toBe(usage[0].prompt_tokens + usage[0].completion_tokens);
    expect(usage[0].cost_usd).toBeCloseTo((usage[0].prompt_tokens * 0.4 + usage[0].completion_tokens * 1.6) / 1e6, 12);
    const report = (await owner.agent.get('/api/usage')).body;
    expect(report.byPurpose).toEqual([expect.objectContaining({ purpose: 'generation', calls: 1, totalTokens: usage[0].total_tokens })]);
    expect(report.byProvider).toEqual([expect.objectContaining({ provider: 'Simulator', calls: 1 })]);
  });

  it('turns a prompt of nonsense into a valid flow, not a 502 (the fuzzer sends such prompts)', async () => {
    const account = await freshAccount();
    const res = await generate(account, `${'0'.repeat(300)} ${'x'.repeat(150)}`);
    expect(res.status).toBe(200);
    expect(res.body.nodeCount).toBeGreaterThan(1);
  });

  it('builds the flow from the text of an uploaded PDF', async () => {
    const account = await freshAccount();
    const pdf = tinyPdf(['Sunrise Bakery price list', 'Sourdough loaf 6 USD', 'Open Sunday to Friday 7:00-15:00']);
    const res = await generate(account, 'Build a flow for our bakery from this price list', { data: pdf, name: 'prices.pdf', type: 'application/pdf' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ nodeCount: 8, flow: { name: 'Bakery Price List Flow', status: 'draft' } });

    const [request] = await chatRequests();
    expect(JSON.stringify(request.body)).toContain('Sourdough loaf 6 USD');
    const graph = (await account.agent.get(`/api/flows/${res.body.flow.id}`)).body.graph;
    const info = graph.nodes.find((n: { id: string }) => n.id === 'info');
    expect(info.data.text).toContain('Sourdough loaf 6 USD');
    expect(info.data.text).toContain('Open Sunday to Friday 7:00-15:00');
    const [row] = await sql<{ file_type: string; file_name: string; status: string; flow_id: string }>(`select * from ai_generations where tenant_id = ?`, [account.user.tenantId]);
    expect(row).toMatchObject({ file_type: 'application/pdf', file_name: 'prices.pdf', status: 'succeeded', flow_id: res.body.flow.id });
    expect((await account.agent.post(`/api/flows/${res.body.flow.id}/versions`)).status).toBe(201);
  });

  it('sends an uploaded image to the model as a data URL', async () => {
    const account = await freshAccount();
    const res = await generate(account, 'A flow for the shop in this photo', { data: tinyPng(), name: 'shop.png', type: 'image/png' });
    expect(res.status).toBe(200);
    expect(res.body.nodeCount).toBe(9);
    const [request] = await chatRequests();
    const parts = (request.body as { messages: Array<{ role: string; content: unknown }> }).messages[1].content as Array<{ type: string; image_url?: { url: string } }>;
    expect(parts[1]).toEqual({ type: 'image_url', image_url: { url: `data:image/png;base64,${tinyPng().toString('base64')}` } });
    // The image is not kept once the request is done.
    const [row] = await sql<{ image_data: Buffer | null; file_type: string }>(`select image_data, file_type from ai_generations where tenant_id = ?`, [account.user.tenantId]);
    expect(row).toEqual({ image_data: null, file_type: 'image/png' });
  });

  it('sends an invalid answer back once with its errors, and saves the repaired flow', async () => {
    const account = await freshAccount();
    await ai.configure({ invalidNext: 1 });
    const res = await generate(account, 'Create a booking flow for a hair salon');
    expect(res.status).toBe(200);
    expect(res.body.nodeCount).toBe(8);

    const requests = await chatRequests();
    expect(requests).toHaveLength(2);
    const messages = (requests[1].body as { messages: Array<{ role: string; content: unknown }> }).messages;
    expect(messages.slice(2)).toEqual([
      { role: 'assistant', content: requests[0].answer },
      { role: 'user', content: expect.stringMatching(/^That flow is not valid:\n- node "menu": .*at most 20 characters/) },
    ]);
    const [row] = await sql<{ repaired: boolean; status: string }>(`select repaired, status from ai_generations where tenant_id = ?`, [account.user.tenantId]);
    expect(row).toEqual({ repaired: true, status: 'succeeded' });
    // Both calls were billed, so both are recorded.
    expect(await sql(`select id from ai_usage where tenant_id = ?`, [account.user.tenantId])).toHaveLength(2);
  });

  it('answers 502 and saves nothing when the model answers an invalid flow again after the repair', async () => {
    const account = await freshAccount();
    await ai.configure({ invalidNext: 2 });
    const res = await generate(account, 'Create a booking flow for a hair salon');
    expect(res.status).toBe(502);
    expect(res.body).toEqual({ error: expect.stringMatching(/did not produce a valid flow.*nothing was saved.*node "menu"/s) });
    expect(await chatRequests()).toHaveLength(2);
    expect(await flowCount(account.user.tenantId)).toBe(0);
    const [row] = await sql<{ status: string; error: string; flow_id: string | null }>(`select status, error, flow_id from ai_generations where tenant_id = ?`, [account.user.tenantId]);
    expect(row).toMatchObject({ status: 'failed', flow_id: null, error: expect.stringMatching(/valid flow/) });

    await ai.configure({ invalidNext: 2, invalidKind: 'not_json' });
    const prose = await generate(account, 'Create a booking flow for a hair salon');
    expect(prose.status).toBe(502);
    expect(prose.body.error).toMatch(/not valid JSON/);
    expect(await flowCount(account.user.tenantId)).toBe(0);
  });

  it('retries a provider’s transient failure, and gives up at once on a refused key with 502 naming the provider', async () => {
    const account = await freshAccount();
    await ai.configure({ failNext: [{ status: 503, message: 'The server is overloaded' }] });
    expect((await generate(account, 'A flow for a taxi company')).status).toBe(200);
    expect((await chatRequests()).map((r) => r.status)).toEqual([503, 200]);

    await ai.reset();
    const wrongKey = await signedInAccount(js.stack);
    await useSimulator(wrongKey, 'sk-not-the-right-key-0000');
    const res = await generate(wrongKey, 'A flow for a taxi company');
    expect(res.status).toBe(502);
    expect(res.body.error).toMatch(/Simulator .* refused the API key \(401\)/);
    expect(await chatRequests()).toHaveLength(1);
    expect(await flowCount(wrongKey.user.tenantId)).toBe(0);
  });

  it('uses the caller’s own provider only: another account without one gets 400, and cannot see the flow', async () => {
    const account = await freshAccount();
    const created = await generate(account, 'Create a customer support flow for a pizza restaurant');
    expect(created.status).toBe(200);
    const outsider = await signedInAccount(js.stack);
    const refused = await generate(outsider, 'Create a customer support flow for a pizza restaurant');
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatch(/No AI provider is configured/);
    expect((await outsider.agent.get(`/api/flows/${created.body.flow.id}`)).status).toBe(404);
  });

  it('limits each user to 10 generations a minute, with 429, and usage adds up over them', async () => {
    // A fixed one-minute window: start early in one, so all eleven requests fall in the same window.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 50_000) await new Promise((r) => setTimeout(r, 60_000 - intoMinute + 100));
    const account = await freshAccount();
    for (let i = 0; i < 10; i++) expect((await generate(account, `A flow for shop number ${i}`)).status).toBe(200);
    const limited = await generate(account, 'One more flow');
    expect(limited.status).toBe(429);
    expect(limited.body.error).toMatch(/at most 10 a minute/);
    expect(limited.headers['retry-after']).toBeDefined();

    const another = await signedInAccount(js.stack, { tenantId: account.user.tenantId });
    expect((await generate(another, 'A flow for the other user')).status).toBe(200);

    const answered = (await chatRequests()).filter((r) => r.status === 200);
    const [sum] = await sql<{ calls: string; completion: string }>(
      `select count(*) as calls, sum(completion_tokens) as completion from ai_usage where tenant_id = ?`,
      [account.user.tenantId],
    );
    expect(Number(sum.calls)).toBe(11);
    expect(Number(sum.completion)).toBe(answered.reduce((s, r) => s + Math.ceil(r.answer!.length / 4), 0));
  }, 120_000);
});

describe('POST /api/flows/generate, with its limits configured small', () => {
  it('answers 413 for a file over the limit, 415 for a type it cannot read, 400 for a broken PDF or no prompt', async () => {
    const stack = await openTestStack({ OPENAI_BASE_URL: ai.baseUrl, OPENAI_API_KEY: ai.apiKey, AI_UPLOAD_MAX_BYTES: '2000' });
    try {
      const account = await signedInAccount(stack);
      const post = () => account.agent.post('/api/flows/generate').field('prompt', 'A flow');
      const big = await post().attach('file', Buffer.alloc(5000, 'a'), { filename: 'big.txt', contentType: 'text/plain' });
      expect(big.status).toBe(413);
      expect(big.body.error).toMatch(/file: the file is larger than 2000 bytes/);
      const text = await post().attach('file', Buffer.from('just some text'), { filename: 'notes.pdf', contentType: 'application/pdf' });
      expect(text.status).toBe(415);
      expect(text.body.error).toMatch(/send a PDF, or a PNG, JPEG, GIF or WebP image/);
      const broken = await post().attach('file', Buffer.from('%PDF-1.4\nthis is not really a pdf'), { filename: 'broken.pdf', contentType: 'application/pdf' });
      expect(broken.status).toBe(400);
      expect(broken.body.error).toMatch(/file: not a readable PDF/);
      const noPrompt = await account.agent.post('/api/flows/generate').field('other', 'x');
      expect(noPrompt.status).toBe(400);
      expect(noPrompt.body.error).toMatch(/prompt/);
      expect(await ai.requests('/v1/chat/completions')).toEqual([]);
      expect(Number((await stack.orm.em.getConnection().execute(`select count(*) as n from flows where tenant_id = ?`, [account.user.tenantId]))[0].n)).toBe(0);
    } finally {
      await stack.close();
    }
  });

  it('answers 503 when the provider does not answer in time, and saves nothing', async () => {
    const stack = await openTestStack({ OPENAI_BASE_URL: ai.baseUrl, OPENAI_API_KEY: ai.apiKey, AI_GENERATION_TIMEOUT_SEC: '2' });
    const worker = await startInProcessWorker({ config: stack.deps.config, orm: stack.orm });
    try {
      await ai.configure({ latencyMs: 4000 });
      const account = await signedInAccount(stack);
      const started = Date.now();
      const res = await account.agent.post('/api/flows/generate').field('prompt', 'A flow for a slow provider');
      expect(res.status).toBe(503);
      expect(res.body.error).toMatch(/did not answer within 2 s; nothing was saved/);
      expect(Date.now() - started).toBeLessThan(4000);
      const conn = stack.orm.em.getConnection();
      expect(Number((await conn.execute(`select count(*) as n from flows where tenant_id = ?`, [account.user.tenantId]))[0].n)).toBe(0);
      expect((await conn.execute(`select status from ai_generations where tenant_id = ?`, [account.user.tenantId]))[0].status).toBe('failed');
    } finally {
      await ai.configure({ latencyMs: 0 });
      await worker.stop();
      await stack.close();
    }
  }, 30_000);
});
