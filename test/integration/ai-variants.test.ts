import { aiActivities, aiDepsFromConfig } from '../../activities/ai';
import { placeholdersOf, variantProblems } from '../../core/ai/template-variants';
import { secretBoxFor } from '../../core/crypto/secret-box';
import { signedInAccount, uniqueName, type TestAccount } from '../support/accounts';
import { openJourneyStack, type JourneyStack } from '../support/journey-stack';
import { startOpenAiSimulator, type OpenAiSimulatorProcess } from '../support/openai-simulator-process';

let js: JourneyStack;
let ai: OpenAiSimulatorProcess;

beforeAll(async () => {
  [js, ai] = await Promise.all([openJourneyStack(), startOpenAiSimulator()]);
  await useSimulator(js.owner);
}, 60_000);
afterAll(async () => {
  await ai?.stop();
  await js?.close();
});
beforeEach(async () => ai.reset());

async function useSimulator(account: TestAccount): Promise<void> {
  const res = await account.agent.post('/api/settings/ai').send({ name: 'Simulator', kind: 'openai_compatible', baseUrl: ai.baseUrl, apiKey: ai.apiKey });
  expect(res.status).toBe(201);
}

async function freshAccount(): Promise<TestAccount> {
  const account = await signedInAccount(js.stack);
  await useSimulator(account);
  return account;
}

const sql = <T>(query: string, params: unknown[] = []) => js.stack.orm.em.getConnection().execute<T[]>(query, params);
const chatRequests = () => ai.requests('/v1/chat/completions');
const variants = (account: TestAccount, body: Record<string, unknown>) => account.agent.post('/api/templates/ai-variants').send(body);
const texts = (res: { body: { variants: Array<{ text: string }> } }) => res.body.variants.map((v) => v.text);

const orderBody = 'Hello {{1}}, your order {{2}} has shipped and will arrive on {{3}}. Track it in the app.';

/** Every rule a variant must keep, checked independently of the code under test. */
function expectWithinTemplateRules(text: string, original: string): void {
  expect(placeholdersOf(text).sort()).toEqual(placeholdersOf(original).sort());
  expect(text.length).toBeLessThanOrEqual(1024);
  expect(text).not.toMatch(/^\s*\{\{/);
  expect(text).not.toMatch(/\{\{\w+\}\}[\s\p{P}]*$/u);
  expect(text).not.toMatch(/\n\s*\n\s*\n/);
  expect(text.trim().toLowerCase()).not.toBe(original.trim().toLowerCase());
}

describe('the template rules a variant is checked against', () => {
  it('accepts a rewording that keeps the placeholders, and names each broken rule', () => {
    expect(variantProblems('Good news! Hello {{1}}, order {{2}} is on its way and arrives {{3}}. Thank you!', orderBody)).toEqual([]);
    const problems = (text: string) => variantProblems(text, orderBody).join(' | ');
    expect(problems('Hello {{1}}, your order has shipped and arrives {{3}}. Thanks!')).toMatch(/must contain \{\{2\}\} once.*not at all/);
    expect(problems('Hello {{1}}, {{1}}: order {{2}} ships {{3}}. Thanks a lot for waiting!')).toMatch(/must contain \{\{1\}\} once.*2 times/);
    expect(problems('Hello {{1}}, order {{2}} ships {{3}} with {{4}}. Thanks a lot!')).toMatch(/adds \{\{4\}\}/);
    expect(problems('{{1}}, your order {{2}} ships on {{3}}. Thanks a lot!')).toMatch(/starts with a placeholder/);
    expect(problems('Hi, your order {{2}} for {{1}} ships on {{3}}.')).toMatch(/ends with a placeholder/);
    expect(problems('Hi there,\n{{1}}\nyour order {{2}} ships on {{3}} as planned, thanks.')).toMatch(/alone on a line/);
    expect(problems('Hi {{1}} {{2}}, your parcel ships on {{3}} as planned, thanks.')).toMatch(/next to each other/);
    expect(problems('Hello {{1}}, your order {{2}} has shipped.\n\n\nIt arrives on {{3}}, thanks.')).toMatch(/more than 2 line breaks in a row/);
    expect(problems(`Hello {{1}}, order {{2}}, date {{3}}. ${'x'.repeat(1030)}`)).toMatch(/a template body has at most 1024/);
    expect(problems('Hello {1}, your order {{2}} ships {{3}}} on time, thanks!')).toMatch(/broken placeholder braces/);
    expect(problems('{{1}} {{2}} ok {{3}} fine')).toMatch(/too many placeholders/);
    expect(problems(`  ${orderBody.toUpperCase()} `)).toMatch(/same as the original/);
  });
});

describe('POST /api/templates/ai-variants', () => {
  it('varies a template’s body: placeholders kept, within the limits, ready to submit, and billed as generation', async () => {
    const owner = js.owner;
    const created = await owner.agent
      .post('/api/templates')
      .send({ name: uniqueName('order_shipped'), language: 'en_US', category: 'UTILITY', components: [{ type: 'BODY', text: orderBody, example: { body_text: [['Dana', 'A-17', 'Monday']] } }] });
    expect(created.status).toBe(201);

    const res = await variants(owner, { templateId: created.body.id, count: 3 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      source: { templateId: created.body.id, templateName: created.body.name, language: 'en_US', text: orderBody, placeholders: ['{{1}}', '{{2}}', '{{3}}'] },
      requested: 3,
      dropped: 0,
      repaired: false,
      provider: 'Simulator',
      model: 'gpt-4.1-mini',
    });
    expect(res.body.variants).toHaveLength(3);
    expect(new Set(texts(res)).size).toBe(3);
    for (const v of res.body.variants) {
      expectWithinTemplateRules(v.text, orderBody);
      expect(v.length).toBe(v.text.length);
      // The template's components with the new body, its example values untouched: submittable as is.
      expect(v.components).toEqual([{ type: 'BODY', text: v.text, example: { body_text: [['Dana', 'A-17', 'Monday']] } }]);
    }
    const submitted = await owner.agent.post('/api/templates').send({ name: uniqueName('order_shipped_b'), language: 'en_US', category: 'UTILITY', components: res.body.variants[0].components });
    expect(submitted.status).toBe(201);

    // Asked with strict structured output, the template's language passed on.
    const [request] = await chatRequests();
    const sent = request.body as { response_format: unknown; messages: Array<{ role: string; content: string }> };
    expect(sent.response_format).toMatchObject({ type: 'json_schema', json_schema: { name: 'flowbot_template_variants', strict: true } });
    expect(sent.messages[1].content).toContain('Language: en_US');
    expect(sent.messages[1].content).toContain(orderBody);

    const usage = await sql<{ purpose: string; reference: string; completion_tokens: number }>(`select purpose, reference, completion_tokens from ai_usage where tenant_id = ?`, [owner.user.tenantId]);
    expect(usage).toEqual([{ purpose: 'generation', reference: expect.stringMatching(/^variants\//), completion_tokens: Math.ceil(request.answer!.length / 4) }]);
    expect((await owner.agent.get('/api/usage')).body.byPurpose).toEqual([expect.objectContaining({ purpose: 'generation', calls: 1 })]);
  });

  it('varies raw text in the tone and language asked for', async () => {
    const account = await freshAccount();
    const res = await variants(account, { text: 'שלום {{1}}, התור שלך נקבע ליום {{2}} בשעה {{3}} במרפאה.', count: 5, language: 'he', tone: 'friendly' });
    expect(res.status).toBe(200);
    expect(res.body.variants).toHaveLength(5);
    expect(res.body.source).toEqual({ templateId: null, templateName: null, language: 'he', text: 'שלום {{1}}, התור שלך נקבע ליום {{2}} בשעה {{3}} במרפאה.', placeholders: ['{{1}}', '{{2}}', '{{3}}'] });
    for (const text of texts(res)) {
      expectWithinTemplateRules(text, res.body.source.text);
      expect(text).toMatch(/[\u0590-\u05ff]/);
    }
    expect(res.body.variants[0].components).toBeUndefined();

    const formal = await variants(account, { text: orderBody, count: 2, tone: 'formal' });
    expect(texts(formal)[0]).toMatch(/^Dear customer, Hello \{\{1\}\}/);
  });

  it('sends broken variants back once with what is wrong, and keeps the repaired ones', async () => {
    const account = await freshAccount();
    await ai.configure({ invalidNext: 1 });
    const res = await variants(account, { text: orderBody, count: 3 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ requested: 3, dropped: 0, repaired: true });
    for (const text of texts(res)) expectWithinTemplateRules(text, orderBody);
    expect(new Set(texts(res)).size).toBe(3);

    const requests = await chatRequests();
    expect(requests).toHaveLength(2);
    const repair = (requests[1].body as { messages: Array<{ role: string; content: string }> }).messages.slice(2);
    expect(repair[0]).toEqual({ role: 'assistant', content: requests[0].answer });
    expect(repair[1].content).toMatch(/variant 1: it must contain \{\{3\}\} once/);
    expect(repair[1].content).toMatch(/variant 3: .*line breaks in a row/);
    expect(repair[1].content).toMatch(/Answer with 2 more variants \(corrected versions of variants 1, 3\)/);
    expect(await sql(`select id from ai_usage where tenant_id = ? and purpose = 'generation'`, [account.user.tenantId])).toHaveLength(2);
  });

  it('drops variants the repair did not fix, and answers 502 when none is left', async () => {
    const account = await freshAccount();
    await ai.configure({ invalidNext: 2 });
    const some = await variants(account, { text: orderBody, count: 3 });
    expect(some.status).toBe(200);
    expect(some.body).toMatchObject({ requested: 3, dropped: 1, repaired: true });
    expect(some.body.variants).toHaveLength(2);
    for (const text of texts(some)) expectWithinTemplateRules(text, orderBody);

    await ai.configure({ invalidNext: 2 });
    const none = await variants(account, { text: orderBody, count: 1 });
    expect(none.status).toBe(502);
    expect(none.body).toEqual({ error: expect.stringMatching(/no variant that follows WhatsApp's template rules.*variant 1: it must contain \{\{3\}\}/s) });

    await ai.configure({ invalidNext: 2, invalidKind: 'not_json' });
    const prose = await variants(account, { text: orderBody, count: 2 });
    expect(prose.status).toBe(502);
    expect(prose.body.error).toMatch(/not valid JSON/);
  });

  it('drops a variant that repeats one kept from the first answer', async () => {
    const config = js.stack.deps.config;
    const activities = aiActivities({ orm: js.stack.orm, box: secretBoxFor(config), ai: aiDepsFromConfig(config) });
    // The simulator writes its first variant between these two phrases; here it is already kept.
    const kept = `Hi there! ${orderBody} Thank you!`;
    const result = await activities.draftTemplateVariants({
      tenantId: js.owner.user.tenantId,
      reference: 'variants/repeat',
      request: { text: orderBody, count: 2 },
      repair: { answer: '{"variants":[]}', problems: [{ variant: 1, errors: ['it is empty'] }], answerErrors: [], wanted: 1, kept: [kept.toLowerCase()] },
    });
    expect(result.valid).toEqual([]);
    expect(result.problems).toEqual([{ variant: 1, errors: ['it repeats another variant'] }]);
  });

  it('limits each user to 10 requests a minute, with 429', async () => {
    // A fixed one-minute window: start early in one, so all eleven requests fall in the same window.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 50_000) await new Promise((r) => setTimeout(r, 60_000 - intoMinute + 100));
    const account = await freshAccount();
    for (let i = 0; i < 10; i++) expect((await variants(account, {})).status).toBe(400);
    const limited = await variants(account, { text: orderBody });
    expect(limited.status).toBe(429);
    expect(limited.body.error).toMatch(/at most 10 a minute/);
    expect(await chatRequests()).toEqual([]);
  }, 30_000);

  it('refuses bad requests with 400, another account’s template with 404, and calls no model for them', async () => {
    const account = await freshAccount();
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{}, /templateId: give either templateId or text/],
      [{ text: orderBody, templateId: '00000000-0000-4000-8000-000000000000' }, /give either templateId or text/],
      [{ text: 'x'.repeat(1025) }, /text: must be at most 1024 characters/],
      [{ text: orderBody, count: 11 }, /count: must be at most 10/],
      [{ text: orderBody, count: 0 }, /count: must be at least 1/],
      [{ templateId: 'nope' }, /templateId: must be a UUID/],
    ];
    for (const [body, error] of cases) {
      const res = await variants(account, body);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatch(error);
    }
    const [template] = await sql<{ id: string }>(`select id from templates where tenant_id = ? limit 1`, [js.owner.user.tenantId]);
    const foreign = await variants(account, { templateId: template.id });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error).toMatch(/Template not found/);

    const noProvider = await variants(await signedInAccount(js.stack), { text: orderBody });
    expect(noProvider.status).toBe(400);
    expect(noProvider.body.error).toMatch(/No AI provider is configured/);
    expect(await chatRequests()).toEqual([]);
  });
});
