import { randomBytes } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { RecordedMessage } from '../../dev/whatsapp-simulator/state';
import type { JourneyState } from '../../core/journey/types';
import { journeyWorkflowId } from '../../core/temporal/workflow-ids';
import { apiTokenFor } from '../support/accounts';
import { eventually, openJourneyStack, type JourneyStack } from '../support/journey-stack';

/**
 * A customer answers a template that the fallback engine sent from another line of the WABA (the journey's own
 * line refused it definitively): the answer arrives on that other line, and must still reach the journey that
 * sent it (core/journey/reply-route.ts), through the real stack: the API, the WhatsApp simulator posting signed
 * webhooks, the inbox dispatcher, Temporal and a worker.
 */

let js: JourneyStack;
let token: string;
/** Both of the owner's lines, in one WhatsApp Business Account: A (the journeys' line) and B (the group's preferred one). */
let lineA: { id: string; phoneNumberId: string };
let lineB: { id: string; phoneNumberId: string };
let wabaId: string;
let flowId: string;
let groupId: string;
let template: { id: string; name: string };

const digits = (n: number) => Array.from(randomBytes(n), (b) => String(b % 10)).join('').replace(/^0/, '1');
let phoneSeq = 0;
const newPhone = () => `97255${String(Date.now() % 1_000_000).padStart(6, '0')}${phoneSeq++}`;
const api = () => js.owner.agent;

const qualifier = {
  nodes: [
    { id: 'start', type: 'trigger_outbound', data: {} },
    { id: 'age', type: 'question', data: { text: 'How old are you?', variable: 'age', validation: 'number' } },
    { id: 'done', type: 'end', data: {} },
  ],
  edges: [
    { source: 'start', target: 'age' },
    { source: 'age', target: 'done' },
  ],
};

beforeAll(async () => {
  js = await openJourneyStack();
  token = await apiTokenFor(js.stack, js.owner.user);
  // A WABA of this tenant alone, so the template sync and its webhooks find this tenant.
  wabaId = digits(15);
  expect((await api().put(`/api/settings/whatsapp/${js.line.id}`).send({ wabaId })).status).toBe(200);
  lineA = js.line;
  const added = await api().post('/api/settings/whatsapp').send({ phoneNumberId: digits(12), wabaId, displayPhoneNumber: '+15550003333', accessToken: js.sim.accessToken });
  expect(added.status).toBe(201);
  lineB = { id: added.body.id, phoneNumberId: added.body.phoneNumberId };

  const name = `fl_${randomBytes(4).toString('hex')}`;
  await js.sim.seedTemplate({ wabaId, name, language: 'en', status: 'APPROVED' });
  expect((await api().post('/api/templates/sync').send({ phoneNumberId: lineA.phoneNumberId })).status).toBe(200);
  template = ((await api().get('/api/templates').query({ wabaId })).body as Array<{ id: string; name: string }>).find((t) => t.name === name)!;
  const group = await api().post('/api/templates/groups').send({ name: 'Fallback replies', templateIds: [template.id], preferredPhoneNumberId: lineB.phoneNumberId });
  expect(group.status).toBe(201);
  groupId = group.body.id;

  const flow = await api().post('/api/flows').send({ name: 'Fallback qualifier', graph: qualifier });
  expect((await api().post(`/api/flows/${flow.body.id}/versions`)).status).toBe(201);
  expect((await api().put(`/api/flows/${flow.body.id}`).send({ status: 'active' })).status).toBe(200);
  flowId = flow.body.id;
}, 90_000);
afterAll(async () => js?.close());
afterEach(async () => {
  await js.sim.configure({ failTemplates: {}, enforceServiceWindow: false });
});

/** A journey of the flow on `line` for `phone`, opened with the template group. */
async function startJourney(phone: string, line: { id: string; phoneNumberId: string }): Promise<void> {
  const res = await js.stack
    .http()
    .post('/api/webhook/outbound')
    .set('Authorization', `Bearer ${token}`)
    .send({ phone, flowId, templateGroupId: groupId, data: { phoneNumberId: line.phoneNumberId } });
  expect(res.status).toBe(200);
  expect(res.body.journeyId).toContain(`/${line.id}/`);
}

const sentTo = (phone: string, n: number) =>
  eventually(async () => {
    const messages = await js.sim.messages({ to: phone });
    return messages.length >= n ? messages : undefined;
  }, `${n} message(s) to ${phone}`);
const isQuestion = (m: RecordedMessage) => m.type === 'text' && (m.body.text as { body: string }).body === 'How old are you?';
const questionFrom = (phone: string, line: { phoneNumberId: string }) =>
  eventually(async () => (await js.sim.messages({ to: phone })).find((m) => isQuestion(m) && m.phoneNumberId === line.phoneNumberId), `the question to ${phone} from ${line.phoneNumberId}`);

const journeyOn = (line: { id: string }, contact: string) =>
  js.stack.temporal.client.workflow.getHandle(journeyWorkflowId({ tenantId: js.owner.user.tenantId, channel: 'whatsapp', lineId: line.id, contact }));
/** The line of the conversation a customer's message was recorded on. */
async function recordedOn(wamid: string): Promise<string | undefined> {
  const rows = await js.stack.orm.em
    .fork()
    .getConnection()
    .execute<Array<{ line_id: string }>>(`select c.line_id from messages m join conversations c on c.id = m.conversation_id where m.provider_message_id = ?`, [wamid]);
  return rows[0]?.line_id;
}
const conversationsOn = async (line: { id: string }, contact: string) =>
  (await js.stack.orm.em.fork().getConnection().execute<Array<{ n: string }>>(`select count(*) as n from conversations where line_id = ? and contact = ?`, [line.id, contact]))[0].n;

describe('replies to a template the fallback engine sent from the other line', () => {
  it("reach the journey that sent it, which goes on from the line the customer wrote to; nothing starts on line B", async () => {
    const phone = newPhone();
    // As Meta: a free-form message only from a number the customer wrote to in the last 24 hours (else 131047).
    await js.sim.configure({ failTemplates: { [`${template.name}@${lineA.phoneNumberId}`]: 131026 }, enforceServiceWindow: true });
    await startJourney(phone, lineA);
    const [fallback] = await sentTo(phone, 1);
    expect(fallback.phoneNumberId).toBe(lineB.phoneNumberId);

    const reply = await js.sim.inbound({ from: phone, phoneNumberId: lineB.phoneNumberId, text: 'yes please' });
    // Line A's journey asks its next question, from line B: the customer's window is open there, not on A.
    await questionFrom(phone, lineB);
    expect(await js.sim.rejections({ code: 131047 })).toEqual([]);
    expect(await recordedOn(reply.wamid)).toBe(lineA.id);
    await expect(journeyOn(lineB, phone).describe()).rejects.toThrow(WorkflowNotFoundError);
    expect(Number(await conversationsOn(lineB, phone))).toBe(0);

    // The journey goes on: the answer to its question, on line B again, ends it.
    await js.sim.inbound({ from: phone, phoneNumberId: lineB.phoneNumberId, text: '42' });
    const state = await eventually(async () => {
      const s = await journeyOn(lineA, phone).query<JourneyState>('state');
      return s.status === 'idle' ? s : undefined;
    }, 'the journey on line A to finish the flow');
    expect(state.variables.age).toBe('42');
    expect(state.history.at(-1)).toMatchObject({ flowId, outcome: 'completed' });
  });

  it("a quoted reply goes to the conversation of the message it quotes, whichever wrote last", async () => {
    const phone = newPhone();
    await js.sim.configure({ failTemplates: { [`${template.name}@${lineA.phoneNumberId}`]: 131026 } });
    await startJourney(phone, lineA);
    const [fallback] = await sentTo(phone, 1);
    expect(fallback.phoneNumberId).toBe(lineB.phoneNumberId);
    // Later, a journey of line B writes to the same customer from B, for itself.
    await startJourney(phone, lineB);
    const [, own] = await sentTo(phone, 2);
    expect(own.phoneNumberId).toBe(lineB.phoneNumberId);

    const quoted = await js.sim.inbound({ from: phone, phoneNumberId: lineB.phoneNumberId, text: 'about your first message', contextId: fallback.wamid });
    const [questionOfA] = await eventually(async () => {
      const questions = (await js.sim.messages({ to: phone })).filter(isQuestion);
      return questions.length ? questions : undefined;
    }, "line A's journey to ask its question");
    expect(await recordedOn(quoted.wamid)).toBe(lineA.id);
    expect(questionOfA.phoneNumberId).toBe(lineB.phoneNumberId);

    // Quoting line B's own message, though A's question went out later: line B's journey gets it.
    const quotingOwn = await js.sim.inbound({ from: phone, phoneNumberId: lineB.phoneNumberId, text: 'and this one', contextId: own.wamid });
    await eventually(async () => ((await js.sim.messages({ to: phone })).filter(isQuestion).length === 2 ? true : undefined), "line B's journey to ask its question");
    expect(await recordedOn(quotingOwn.wamid)).toBe(lineB.id);
    const stateOfB = await eventually(async () => {
      const s = await journeyOn(lineB, phone).query<JourneyState>('state');
      return s.status === 'waiting' ? s : undefined;
    }, "line B's journey to wait for the answer");
    expect(stateOfB).toMatchObject({ waitingFor: 'reply', currentNode: 'age' });
  });

  it("a journey of line B that wrote before the fallback send gives the customer's next reply up to line A's journey", async () => {
    const phone = newPhone();
    await startJourney(phone, lineB);
    const [own] = await sentTo(phone, 1);
    expect(own.phoneNumberId).toBe(lineB.phoneNumberId);
    await js.sim.configure({ failTemplates: { [`${template.name}@${lineA.phoneNumberId}`]: 131026 } });
    await startJourney(phone, lineA);
    const [, fallback] = await sentTo(phone, 2);
    expect(fallback.phoneNumberId).toBe(lineB.phoneNumberId);

    const reply = await js.sim.inbound({ from: phone, phoneNumberId: lineB.phoneNumberId, text: 'sure' });
    await questionFrom(phone, lineB);
    expect(await recordedOn(reply.wamid)).toBe(lineA.id);
    expect(await journeyOn(lineB, phone).query<JourneyState>('state')).toMatchObject({ status: 'waiting', waitingFor: 'reply' });
    expect((await js.sim.messages({ to: phone })).filter(isQuestion)).toHaveLength(1);
  });

  it('a reply on line B when B sent nothing for line A goes to line B as before', async () => {
    const phone = newPhone();
    await startJourney(phone, lineA);
    const [opening] = await sentTo(phone, 1);
    expect(opening.phoneNumberId).toBe(lineA.phoneNumberId);

    const reply = await js.sim.inbound({ from: phone, phoneNumberId: lineB.phoneNumberId, text: 'hello B' });
    await eventually(() => recordedOn(reply.wamid), 'the reply to be recorded');
    expect(await recordedOn(reply.wamid)).toBe(lineB.id);
    await eventually(async () => (await journeyOn(lineB, phone).describe().catch(() => undefined)) ?? undefined, "line B's journey to start");
    // Line A's journey still waits for an answer of its own: it asked nothing.
    const state = await journeyOn(lineA, phone).query<JourneyState>('state');
    expect(state).toMatchObject({ status: 'waiting', waitingFor: 'reply' });
    expect((await js.sim.messages({ to: phone })).filter(isQuestion)).toHaveLength(0);
  });
});
