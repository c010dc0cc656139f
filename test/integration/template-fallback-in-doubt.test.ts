import { randomBytes } from 'node:crypto';
import { upsertConversation } from '../../core/conversations/store';
import { followDeliveryWorkflowId, type FollowResult } from '../../core/delivery/types';
import { eventually, openJourneyStack, type JourneyStack } from '../support/journey-stack';

/**
 * The template fallback engine after a call cut short: the simulator accepts the send (it goes out, its
 * statuses follow) and drops the connection without answering, so the worker never learns the wamid, as when
 * it dies mid-call. Temporal retries the send activity; the retry must not send the template again (the Cloud
 * API has no idempotency key) but wait for the provider's status webhook, which the status handler gives to the
 * attempt whose call was in flight, on whichever line of the group it went out.
 */

let js: JourneyStack;
let lineB: { id: string; phoneNumberId: string };
let tplA: { id: string; name: string };
let tplB: { id: string; name: string };
let groupId: string;

const digits = (n: number) => Array.from(randomBytes(n), (b) => String(b % 10)).join('').replace(/^0/, '1');
let phoneSeq = 0;
const newPhone = () => `97256${String(Date.now() % 1_000_000).padStart(6, '0')}${phoneSeq++}`;
const conn = () => js.stack.orm.em.getConnection();
const api = () => js.owner.agent;
/** Statuses come this long after the send: Temporal's retry (1 s) takes the attempt up before its status arrives. */
const statusDelayMs = 2_500;

beforeAll(async () => {
  js = await openJourneyStack();
  const wabaA = digits(15);
  expect((await api().put(`/api/settings/whatsapp/${js.line.id}`).send({ wabaId: wabaA })).status).toBe(200);
  const added = await api().post('/api/settings/whatsapp').send({ phoneNumberId: digits(12), wabaId: wabaA, displayPhoneNumber: '+15550004444', accessToken: js.sim.accessToken });
  expect(added.status).toBe(201);
  lineB = { id: added.body.id, phoneNumberId: added.body.phoneNumberId };
  const names = [`doubt_a_${digits(6)}`, `doubt_b_${digits(6)}`];
  for (const name of names) await js.sim.seedTemplate({ wabaId: wabaA, name, language: 'en', status: 'APPROVED' });
  expect((await api().post('/api/templates/sync').send({ phoneNumberId: js.line.phoneNumberId })).status).toBe(200);
  const all: Array<{ id: string; name: string }> = (await api().get('/api/templates').query({ wabaId: wabaA })).body;
  [tplA, tplB] = names.map((name) => all.find((t) => t.name === name)!);
  const group = await api().post('/api/templates/groups').send({ name: 'In doubt', templateIds: [tplA.id, tplB.id] });
  expect(group.status).toBe(201);
  groupId = group.body.id;
}, 90_000);
afterAll(async () => js?.close());
afterEach(async () => {
  await js.sim.configure({ recipients: {}, failTemplates: {}, failNext: [], statusDelayMs: 20, autoStatuses: ['sent', 'delivered', 'read'] });
});

/** An agent's template reply (group) to a new contact on the owner's first line; the message row's id. */
async function reply(contact: string): Promise<string> {
  const conversation = await upsertConversation(js.stack.orm.em.fork(), { tenantId: js.owner.user.tenantId, channel: 'whatsapp', lineId: js.line.id, contact });
  const res = await api().post(`/api/conversations/${conversation.id}/reply`).send({ messageType: 'template', templateLanguage: 'en', templateGroupId: groupId });
  // 202: still being sent when the API stopped waiting for it (a send held in doubt).
  expect([200, 202]).toContain(res.status);
  const [row] = await conn().execute<Array<{ id: string }>>(`select id from messages where conversation_id = ? and direction = 'out' order by created_at desc limit 1`, [
    conversation.id,
  ]);
  return row.id;
}

interface MessageRow {
  status: string;
  provider_message_id: string | null;
  template_name: string | null;
  payload: { type: string; name?: string };
}
const messageRow = async (id: string) =>
  (await conn().execute<MessageRow[]>(`select status, provider_message_id, template_name, payload from messages where id = ?`, [id]))[0];

const attemptsOf = (id: string) =>
  conn().execute<Array<{ attempt_no: number; phone_number_id: string; template_name: string; outcome: string; error_code: number | null; provider_message_id: string | null; tries: number }>>(
    `select attempt_no, phone_number_id, template_name, outcome, error_code, provider_message_id, tries from message_attempts where message_id = ? order by attempt_no`,
    [id],
  );

const readEventually = (id: string) =>
  eventually(async () => {
    const m = await messageRow(id);
    return m.status === 'read' ? m : undefined;
  }, `message ${id} to be read`, 40_000);

describe('a template send whose call was cut after WhatsApp accepted it', () => {
  it('is not sent again: the retry waits for the status webhook, which gives the attempt and the message their wamid', async () => {
    const contact = newPhone();
    await js.sim.configure({ statusDelayMs, failNext: [{ acceptThenDrop: true, to: contact, phoneNumberId: js.line.phoneNumberId }] });
    const id = await reply(contact);

    const m = await readEventually(id);
    const sent = await js.sim.messages({ to: contact });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ phoneNumberId: js.line.phoneNumberId, wamid: m.provider_message_id });
    expect(m).toMatchObject({ template_name: tplA.name, payload: { type: 'template', name: tplA.name } });
    expect(await attemptsOf(id)).toMatchObject([
      { attempt_no: 1, phone_number_id: js.line.phoneNumberId, template_name: tplA.name, outcome: 'sent', provider_message_id: m.provider_message_id, tries: 1 },
    ]);
    // Nothing went out while the webhooks settled.
    await js.sim.settled();
    expect(await js.sim.messages({ to: contact })).toHaveLength(1);
  }, 60_000);

  it("on the group's other line: the status of that line adopts the attempt, though the message is the first line's conversation's", async () => {
    const contact = newPhone();
    const lineA = js.line.phoneNumberId;
    await js.sim.configure({
      statusDelayMs,
      failTemplates: { [`${tplA.name}@${lineA}`]: 131026, [`${tplB.name}@${lineA}`]: 132000 },
      failNext: [{ acceptThenDrop: true, to: contact, phoneNumberId: lineB.phoneNumberId }],
    });
    const id = await reply(contact);

    const m = await readEventually(id);
    const sent = await js.sim.messages({ to: contact });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ phoneNumberId: lineB.phoneNumberId, wamid: m.provider_message_id });
    expect(m).toMatchObject({ template_name: tplA.name });
    expect((await attemptsOf(id)).map((a) => [a.phone_number_id, a.template_name, a.outcome, a.error_code, a.provider_message_id])).toEqual([
      [lineA, tplA.name, 'failed', 131026, null],
      [lineA, tplB.name, 'failed', 132000, null],
      [lineB.phoneNumberId, tplA.name, 'sent', null, m.provider_message_id],
    ]);
    await js.sim.settled();
    expect(await js.sim.messages({ to: contact })).toHaveLength(1);
  }, 60_000);

  it('waits while no status comes, and sends the attempt again once the grace is over, as a plain send does', async () => {
    const contact = newPhone();
    await js.sim.configure({ autoStatuses: [], failNext: [{ acceptThenDrop: true, to: contact }] });
    const id = await reply(contact);
    await eventually(async () => {
      const attempts = await conn().execute<Array<{ outcome: string; called_at: Date | null }>>(`select outcome, called_at from message_attempts where message_id = ?`, [id]);
      return attempts[0]?.outcome === 'pending' && attempts[0].called_at ? attempts : undefined;
    }, 'the attempt to be in doubt');
    // Temporal's retry (after 1 s) takes the attempt up and waits for the provider's word: it does not send it again.
    await new Promise((r) => setTimeout(r, 4_000));
    expect(await js.sim.messages({ to: contact })).toHaveLength(1);
    expect((await messageRow(id)).provider_message_id).toBeNull();

    // A minute later (the grace) the provider still said nothing: the retry sends it again.
    await conn().execute(`update message_attempts set called_at = called_at - interval '61 seconds' where message_id = ?`, [id]);
    const sent = await eventually(async () => {
      const messages = await js.sim.messages({ to: contact });
      return messages.length === 2 ? messages : undefined;
    }, 'the template to be sent again');
    const m = await eventually(async () => {
      const row = await messageRow(id);
      return row.provider_message_id ? row : undefined;
    }, 'the message to be sent');
    expect(m).toMatchObject({ status: 'sent', provider_message_id: sent[1].wamid, template_name: tplA.name });
    expect(await attemptsOf(id)).toMatchObject([{ attempt_no: 1, template_name: tplA.name, outcome: 'sent', provider_message_id: sent[1].wamid, tries: 2 }]);
  }, 60_000);

  it("after a late failure, the delivery workflow's next template is not sent twice either", async () => {
    const contact = newPhone();
    await js.sim.configure({ statusDelayMs, recipients: { [contact]: { autoStatuses: ['sent'], failWith: 131026, templates: [tplA.name] } } });
    const id = await reply(contact);
    // The first template is out; its late failure is on its way: the next send (the group's second template) is cut.
    await eventually(async () => (await js.sim.messages({ to: contact })).length === 1, 'the first template to go out');
    await js.sim.configure({ failNext: [{ acceptThenDrop: true, to: contact }] });

    const m = await readEventually(id);
    const sent = await js.sim.messages({ to: contact });
    expect(sent.map((s) => (s.body.template as { name: string }).name)).toEqual([tplA.name, tplB.name]);
    expect(m).toMatchObject({ template_name: tplB.name, provider_message_id: sent[1].wamid });
    expect(await attemptsOf(id)).toMatchObject([
      { attempt_no: 1, template_name: tplA.name, outcome: 'failed', error_code: 131026, provider_message_id: sent[0].wamid },
      { attempt_no: 2, template_name: tplB.name, outcome: 'sent', provider_message_id: sent[1].wamid, tries: 1 },
    ]);
    const result = await eventually(async () => {
      try {
        return (await js.stack.temporal.client.workflow.getHandle(followDeliveryWorkflowId(id, 0)).result()) as FollowResult;
      } catch {
        return undefined;
      }
    }, 'the delivery workflow');
    expect(result).toMatchObject({ outcome: 'delivered', providerMessageId: sent[1].wamid, fallbacks: 1 });
    await js.sim.settled();
    expect(await js.sim.messages({ to: contact })).toHaveLength(2);
  }, 60_000);
});
