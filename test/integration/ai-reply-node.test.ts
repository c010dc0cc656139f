import { upsertConversation } from '../../core/conversations/store';
import { newId } from '../../core/ids';
import { signalJourney } from '../../core/journey/signal';
import type { JourneyState } from '../../core/journey/types';
import { journeyWorkflowId } from '../../core/temporal/workflow-ids';
import { eventually, openJourneyStack, type JourneyStack } from '../support/journey-stack';
import { startOpenAiSimulator, type OpenAiSimulatorProcess } from '../support/openai-simulator-process';

let js: JourneyStack;
let ai: OpenAiSimulatorProcess;
let flowId: string;
const docs: Record<string, string> = {};

const hoursDoc = [
  '# Sunrise Bakery',
  '',
  'We are open Sunday to Thursday from 7:00 to 19:00, and on Friday from 7:00 to 14:00.',
  'Our sourdough loaf costs 24 shekels.',
  'Deliveries reach Tel Aviv and Ramat Gan within two hours.',
].join('\n');
const returnsDoc = 'Returns and refunds: we take back unopened products within 14 days, with the receipt.';
// A follow-up ("and how much does it cost?") finds this price only read with the question before it.
const weekendBoxDoc = 'The Weekend Box brings six pastries and two challahs to your door. The Weekend Box costs 95 shekels a month.';

const graph = (withHandoffExit: boolean, asking: Record<string, string> = {}) => ({
  nodes: [
    { id: 'start', type: 'trigger_inbound', data: { match: 'any' } },
    { id: 'ai', type: 'ai_reply', data: { instructions: 'Sign every answer as the Sunrise team.', handoffMessage: 'Let me find a colleague for you.', ...asking } },
    { id: 'done', type: 'end', data: {} },
    { id: 'human', type: 'handoff', data: { message: 'A colleague will answer you shortly.' } },
  ],
  edges: [
    { source: 'start', target: 'ai' },
    { source: 'ai', sourceHandle: 'answered', target: 'done' },
    ...(withHandoffExit ? [{ source: 'ai', sourceHandle: 'handoff', target: 'human' }] : []),
  ],
});

async function addDocument(name: string, text: string, type: string): Promise<string> {
  const res = await js.owner.agent.post('/api/knowledge-base').attach('file', Buffer.from(text), { filename: name, contentType: type });
  expect(res.status).toBe(202);
  const id = res.body.document.id as string;
  await eventually(async () => {
    const list = (await js.owner.agent.get('/api/knowledge-base')).body.documents as Array<{ id: string; status: string; stage: string | null }>;
    const doc = list.find((d) => d.id === id);
    if (doc?.status === 'failed') throw new Error(`indexing ${name} failed`);
    return doc?.status === 'ready' && !doc.stage?.match(/extracting|chunking|embedding/) ? true : undefined;
  }, `${name} indexed`);
  return id;
}

beforeAll(async () => {
  [js, ai] = await Promise.all([openJourneyStack(), startOpenAiSimulator()]);
  expect((await js.owner.agent.post('/api/settings/ai').send({ name: 'Simulator', kind: 'openai_compatible', baseUrl: ai.baseUrl, apiKey: ai.apiKey })).status).toBe(201);
  docs.hours = await addDocument('hours.md', hoursDoc, 'text/markdown');
  docs.returns = await addDocument('returns.txt', returnsDoc, 'text/plain');
  docs.weekendBox = await addDocument('weekend-box.txt', weekendBoxDoc, 'text/plain');
  const created = await js.owner.agent.post('/api/flows').send({ name: 'Bakery questions', graph: graph(true) });
  expect(created.status).toBe(201);
  flowId = created.body.id;
  expect((await js.owner.agent.post(`/api/flows/${flowId}/versions`)).status).toBe(201);
  expect((await js.owner.agent.put(`/api/flows/${flowId}`).send({ status: 'active' })).status).toBe(200);
}, 120_000);
afterAll(async () => {
  await ai?.stop();
  await js?.close();
});
beforeEach(async () => ai.reset());

let seq = 0;
const newPhone = () => `97254${String(Date.now() % 1_000_000).padStart(6, '0')}${seq++}`;
const sql = <T>(query: string, params: unknown[] = []) => js.stack.orm.em.getConnection().execute<T[]>(query, params);
const texts = async (to: string) => (await js.sim.messages({ to })).map((m) => (m.body as { text?: { body: string } }).text?.body);
const textsN = (to: string, n: number) => eventually(async () => ((await texts(to)).length >= n ? texts(to) : undefined), `${n} messages to ${to}`);
const keyOf = (contact: string) => ({ tenantId: js.owner.user.tenantId, channel: 'whatsapp' as const, lineId: js.line.id, contact });
const state = (contact: string) => js.stack.temporal.client.workflow.getHandle(journeyWorkflowId(keyOf(contact))).query<JourneyState>('state');
const chatRequests = () => ai.requests('/v1/chat/completions');
const ask = (phone: string, text: string) => js.sim.inbound({ from: phone, phoneNumberId: js.line.phoneNumberId, text, name: 'Noa' });

/** The journey's state once it stopped moving: done with the flow, or waiting for an agent. */
const settled = (phone: string) =>
  eventually(async () => {
    const s = await state(phone).catch(() => undefined);
    return s && s.history.length + (s.paused ? 1 : 0) > 0 ? s : undefined;
  }, `the journey of ${phone} to settle`);

async function conversationOf(phone: string) {
  const list = await js.owner.agent.get(`/api/conversations?search=${phone}`);
  const id = (list.body as Array<{ id: string }>)[0].id;
  return (await js.owner.agent.get(`/api/conversations/${id}`)).body as {
    status: string;
    messages: Array<{ direction: string; text: string; payload: Record<string, any>; journeyNode: string | null }>;
  };
}

describe('the AI reply node', () => {
  it('answers from the knowledge base, cites the document on the message, and the usage adds up', async () => {
    const phone = newPhone();
    await ask(phone, 'What time do you open on Friday?');
    const [answer] = await textsN(phone, 1);
    expect(answer).toBe('We are open Sunday to Thursday from 7:00 to 19:00, and on Friday from 7:00 to 14:00.');
    const s = await settled(phone);
    expect(s.history[s.history.length - 1]).toMatchObject({ flowId, outcome: 'completed' });
    expect(s.variables).toMatchObject({ ai_answer: answer, ai_handoff_reason: '' });

    // The model got the question, the retrieved passage and the node's instructions, with structured output.
    const [request] = await chatRequests();
    const body = request.body as { response_format: unknown; messages: Array<{ role: string; content: string }> };
    expect(body.response_format).toMatchObject({ json_schema: { name: 'flowbot_knowledge_reply', strict: true } });
    expect(body.messages[0].content).toContain('Sign every answer as the Sunrise team.');
    expect(body.messages[1].content).toMatch(/^Customer's message:\nWhat time do you open on Friday\?\n\nSources:\n\[1\] "hours\.md"\n[\s\S]*on Friday from 7:00 to 14:00/);

    // The conversation log says which document the answer came from.
    const conversation = await conversationOf(phone);
    const sent = conversation.messages.find((m) => m.direction === 'out')!;
    expect(sent).toMatchObject({ text: answer, journeyNode: 'ai' });
    expect(sent.payload.ai).toEqual({
      kind: 'knowledge_reply',
      provider: 'Simulator',
      model: 'gpt-4.1-mini',
      citations: [{ documentId: docs.hours, documentName: 'hours.md', chunkId: expect.any(String), chunkIndex: 0, score: expect.any(Number) }],
    });
    expect(sent.payload.ai.citations[0].score).toBeGreaterThanOrEqual(0.2);

    // One reply call and one query embedding, recorded under the journey's node; the report adds them up.
    const usage = await sql<{ purpose: string; reference: string; total_tokens: number }>(
      `select purpose, reference, total_tokens from ai_usage where tenant_id = ? and reference like ? order by purpose`,
      [js.owner.user.tenantId, `journey/${journeyWorkflowId(keyOf(phone))}/ai`],
    );
    expect(usage.map((u) => u.purpose)).toEqual(['embeddings', 'replies']);
    const report = (await js.owner.agent.get('/api/usage')).body;
    const all = await sql<{ purpose: string; n: string; tokens: string }>(
      `select purpose, count(*) as n, sum(total_tokens) as tokens from ai_usage where tenant_id = ? group by purpose order by purpose`,
      [js.owner.user.tenantId],
    );
    expect(report.byPurpose.map((p: { purpose: string; calls: number; totalTokens: number }) => [p.purpose, p.calls, p.totalTokens])).toEqual(
      all.map((r) => [r.purpose, Number(r.n), Number(r.tokens)]),
    );
  });

  it('answers a follow-up with the conversation so far: earlier turns go to the model, and a short one is searched with the question before it', async () => {
    const phone = newPhone();
    await ask(phone, 'Tell me about the Weekend Box');
    const [first] = await textsN(phone, 1);
    expect(first).toBe('The Weekend Box brings six pastries and two challahs to your door.');
    await settled(phone);
    await ai.reset();

    await ask(phone, 'And how much does it cost?');
    expect((await textsN(phone, 2))[1]).toBe('The Weekend Box costs 95 shekels a month.');
    // Searched with the customer's previous message: the Weekend Box passage, not the sourdough loaf's price.
    const [embedded] = await ai.requests('/v1/embeddings');
    expect((embedded.body as { input: unknown }).input).toEqual(['Tell me about the Weekend Box\nAnd how much does it cost?']);
    const [request] = await chatRequests();
    const messages = (request.body as { messages: Array<{ role: string; content: string }> }).messages;
    expect(messages.slice(1, -1)).toEqual([
      { role: 'user', content: 'Tell me about the Weekend Box' },
      { role: 'assistant', content: first },
    ]);
    expect(messages[0].role).toBe('system');
    expect(messages[0].content).toMatch(/take facts only from the sources/);
    const last = messages[messages.length - 1];
    expect(last.role).toBe('user');
    expect(last.content).toMatch(/^Customer's message:\nAnd how much does it cost\?\n\nSources:\n\[1\] "weekend-box\.txt"\n/);
    expect(last.content).not.toContain('sourdough');
    const sent = (await conversationOf(phone)).messages.filter((m) => m.direction === 'out');
    expect(sent[1].payload.ai.citations).toEqual([expect.objectContaining({ documentId: docs.weekendBox })]);
    await eventually(async () => ((await state(phone)).history.length >= 2 ? true : undefined), 'the second run to finish');

    // A question that stands on its own is searched alone; the model still sees what came before.
    await ai.reset();
    await ask(phone, 'What time do you open on Friday?');
    expect((await textsN(phone, 3))[2]).toMatch(/on Friday from 7:00 to 14:00/);
    expect(((await ai.requests('/v1/embeddings'))[0].body as { input: unknown }).input).toEqual(['What time do you open on Friday?']);
    const third = ((await chatRequests())[0].body as { messages: Array<{ role: string; content: string }> }).messages;
    expect(third.slice(1, -1).map((m) => [m.role, m.content])).toEqual([
      ['user', 'Tell me about the Weekend Box'],
      ['assistant', first],
      ['user', 'And how much does it cost?'],
      ['assistant', 'The Weekend Box costs 95 shekels a month.'],
    ]);
  });

  it('gives the model only the recent conversation, bounded: the newest 10 of the last day, cut, without failed sends or later messages', async () => {
    const phone = newPhone();
    const { id: conversationId } = await upsertConversation(js.stack.orm.em.fork(), keyOf(phone));
    const insert = (direction: 'in' | 'out', text: string, minutesAgo: number, status = direction === 'in' ? 'received' : 'sent') =>
      sql(
        `insert into messages (id, tenant_id, conversation_id, direction, type, text, payload, status, created_at)
         values (?, ?, ?, ?, 'text', ?, '{}', ?, now() - make_interval(mins => ?))`,
        [newId(), js.owner.user.tenantId, conversationId, direction, text, status, minutesAgo],
      );
    await insert('in', 'Hello from yesterday morning', 30 * 60);
    for (let i = 1; i <= 11; i++) await insert(i % 2 ? 'in' : 'out', `Message ${i}`, 60 - i);
    const longAnswer = 'A very long answer. '.repeat(100);
    await insert('out', longAnswer, 30);
    await insert('out', 'This one never reached the customer', 20, 'failed');

    await ask(phone, 'What time do you open on Friday?');
    expect((await textsN(phone, 1))[0]).toMatch(/on Friday from 7:00 to 14:00/);
    const messages = ((await chatRequests())[0].body as { messages: Array<{ role: string; content: string }> }).messages;
    expect(messages.slice(1, -1)).toEqual([
      ...Array.from({ length: 9 }, (_, k) => ({ role: (k + 3) % 2 ? 'user' : 'assistant', content: `Message ${k + 3}` })),
      { role: 'assistant', content: `${longAnswer.slice(0, 999)}…` },
    ]);
    expect(messages[messages.length - 1].content).toMatch(/^Customer's message:\nWhat time do you open on Friday\?\n/);
  });

  it('hands off at once, without asking the model, when the customer uses a word that asks for a person', async () => {
    const phone = newPhone();
    await ask(phone, 'Can I talk to a human please?');
    expect(await textsN(phone, 2)).toEqual(['Let me find a colleague for you.', 'A colleague will answer you shortly.']);
    const s = await settled(phone);
    expect(s).toMatchObject({ paused: true, currentNode: 'human', variables: expect.objectContaining({ ai_handoff_reason: 'asked_for_person' }) });
    await eventually(async () => ((await conversationOf(phone)).status === 'agent' ? true : undefined), 'the conversation in the agents’ queue');
    expect(await chatRequests()).toEqual([]);
  });

  it('hands off when the model sees the customer wants a person, in words the keywords do not catch', async () => {
    const phone = newPhone();
    await ask(phone, 'Could somebody phone me about a sourdough loaf?');
    expect((await textsN(phone, 2))[1]).toBe('A colleague will answer you shortly.');
    expect((await settled(phone)).variables.ai_handoff_reason).toBe('asked_for_person');
    expect(await chatRequests()).toHaveLength(1);
  });

  it('hands off when it is not confident: nothing relevant retrieved, the sources do not answer, or the answer cites nothing given', async () => {
    const nothing = newPhone();
    await ask(nothing, 'Is there parking for bicycles?');
    expect(await textsN(nothing, 2)).toEqual(['Let me find a colleague for you.', 'A colleague will answer you shortly.']);
    expect((await settled(nothing)).variables.ai_handoff_reason).toBe('no_knowledge');
    expect(await chatRequests()).toEqual([]);

    const unanswered = newPhone();
    await ask(unanswered, 'Sourdough delivery on Friday?');
    await textsN(unanswered, 2);
    expect((await settled(unanswered)).variables.ai_handoff_reason).toBe('cannot_answer');
    expect(JSON.parse((await chatRequests())[0].answer!)).toMatchObject({ canAnswer: false });

    await ai.reset();
    await ai.configure({ invalidNext: 1 });
    const ungrounded = newPhone();
    await ask(ungrounded, 'What time do you open on Friday?');
    await textsN(ungrounded, 2);
    expect((await settled(ungrounded)).variables.ai_handoff_reason).toBe('cannot_answer');
    expect((await texts(ungrounded)).join(' ')).not.toMatch(/7:00/);
  });

  it('retries the provider’s transient failures, and hands off when it keeps failing', async () => {
    // Each attempt embeds the question (a failure there only loses the embedding) and asks the model.
    await ai.configure({ failNext: [{ status: 500 }, { status: 503 }] });
    const retried = newPhone();
    await ask(retried, 'How much is the sourdough loaf?');
    expect(await textsN(retried, 1)).toEqual(['Our sourdough loaf costs 24 shekels.']);
    expect((await chatRequests()).map((r) => r.status)).toEqual([503, 200]);

    await ai.reset();
    await ai.configure({ failNext: Array.from({ length: 6 }, () => ({ status: 500 })) });
    const failing = newPhone();
    await ask(failing, 'How much is the sourdough loaf?');
    expect(await textsN(failing, 2)).toEqual(['Let me find a colleague for you.', 'A colleague will answer you shortly.']);
    expect((await settled(failing)).variables.ai_handoff_reason).toBe('ai_unavailable');
  }, 60_000);

  it('hands off without calling the model when the account has no AI provider', async () => {
    const providers = (await js.owner.agent.get('/api/settings/ai')).body.providers as Array<{ id: string }>;
    await js.owner.agent.delete(`/api/settings/ai?id=${providers[0].id}`).expect(200);
    try {
      const phone = newPhone();
      await ask(phone, 'What time do you open on Friday?');
      await textsN(phone, 2);
      expect((await settled(phone)).variables.ai_handoff_reason).toBe('not_configured');
      expect(await ai.requests()).toEqual([]);
    } finally {
      await js.owner.agent.post('/api/settings/ai').send({ name: 'Simulator', kind: 'openai_compatible', baseUrl: ai.baseUrl, apiKey: ai.apiKey }).expect(201);
    }
  });

  it('hands off without calling the model once the month’s AI budget is used up', async () => {
    await js.owner.agent.put('/api/settings/ai/budget').send({ monthlyBudgetUsd: 0 }).expect(200);
    try {
      const phone = newPhone();
      await ask(phone, 'What time do you open on Friday?');
      expect(await textsN(phone, 2)).toEqual(['Let me find a colleague for you.', 'A colleague will answer you shortly.']);
      expect((await settled(phone)).variables.ai_handoff_reason).toBe('over_budget');
      expect(await ai.requests()).toEqual([]);
    } finally {
      await js.owner.agent.put('/api/settings/ai/budget').send({ monthlyBudgetUsd: null }).expect(200);
    }
  });

  it('validates its fields and exits like any node', async () => {
    const bad = await js.owner.agent.post('/api/flows').send({
      name: 'Bad AI node',
      graph: {
        nodes: [
          { id: 'start', type: 'trigger_inbound', data: {} },
          { id: 'ai', type: 'ai_reply', data: { maxSources: 20, minScore: 2 } },
        ],
        edges: [{ source: 'start', target: 'ai' }],
      },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/node "ai": data\.maxSources/);
    const wrongExit = await js.owner.agent.post('/api/flows').send({
      name: 'Bad AI exit',
      graph: { nodes: [{ id: 'ai', type: 'ai_reply', data: {} }, { id: 'e', type: 'end', data: {} }], edges: [{ source: 'ai', sourceHandle: 'next', target: 'e' }] },
    });
    expect(wrongExit.status).toBe(400);
    expect(wrongExit.body.error).toMatch(/node "ai": has no exit "next" \(exits: answered, handoff\)/);
  });

  it('waits for an agent itself when its handoff exit leads nowhere, and goes on when the agent hands back', async () => {
    const draft = await js.owner.agent.put(`/api/flows/${flowId}`).send({ graph: graph(false) });
    expect(draft.status).toBe(200);
    expect((await js.owner.agent.post(`/api/flows/${flowId}/versions`)).status).toBe(201);
    const phone = newPhone();
    await ask(phone, 'I need an agent');
    expect(await textsN(phone, 1)).toEqual(['Let me find a colleague for you.']);
    const s = await settled(phone);
    expect(s).toMatchObject({ paused: true, currentNode: 'ai', waitingFor: 'agent' });
    await eventually(async () => ((await conversationOf(phone)).status === 'agent' ? true : undefined), 'the conversation in the agents’ queue');
    await signalJourney(js.stack.temporal, keyOf(phone), { name: 'agent', arg: { action: 'release', userId: js.owner.user.id } });
    await eventually(async () => ((await state(phone)).history.length ? true : undefined), 'the flow to finish after the hand-back');
  });

  it('asks first when it has a prompt, and with nothing to answer yet waits for the customer’s question', async () => {
    const publish = async (asking: Record<string, string>) => {
      expect((await js.owner.agent.put(`/api/flows/${flowId}`).send({ graph: graph(true, asking) })).status).toBe(200);
      expect((await js.owner.agent.post(`/api/flows/${flowId}/versions`)).status).toBe(201);
    };
    await publish({ prompt: 'Hi {{customerName}}! What would you like to know about the bakery?' });
    const prompted = newPhone();
    await ask(prompted, 'hello');
    expect(await textsN(prompted, 1)).toEqual(['Hi Noa! What would you like to know about the bakery?']);
    // The question reaches the simulator a moment before the journey records that it waits for the answer.
    const asked = await eventually(async () => ((await state(prompted)).waitingFor === 'reply' ? state(prompted) : undefined), 'the node to wait for the answer');
    expect(asked).toMatchObject({ currentNode: 'ai', waitingFor: 'reply' });
    await ask(prompted, 'How much is the sourdough loaf?');
    expect((await textsN(prompted, 2))[1]).toBe('Our sourdough loaf costs 24 shekels.');

    await publish({ question: '{{orderQuestion}}' });
    const waiting = newPhone();
    await ask(waiting, 'hello');
    await eventually(async () => ((await state(waiting).catch(() => undefined))?.waitingFor === 'reply' ? true : undefined), 'the node to wait for a question');
    expect(await texts(waiting)).toEqual([]);
    await ask(waiting, 'What time do you open on Friday?');
    expect((await textsN(waiting, 1))[0]).toMatch(/on Friday from 7:00 to 14:00/);
    expect(await chatRequests()).toHaveLength(2);
  });
});
