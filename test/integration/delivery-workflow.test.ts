import { createHmac, randomBytes } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { upsertConversation } from '../../core/conversations/store';
import { followDeliveryWorkflowId, type FollowDeliveryInput, type FollowResult } from '../../core/delivery/types';
import { eventually, openJourneyStack, type JourneyStack } from '../support/journey-stack';

/**
 * The delivery workflow of a message (workflows/delivery/follow-delivery.ts) against the real stack: the
 * simulator accepts sends and posts signed status webhooks, the inbox dispatcher applies them and signals the
 * workflow, and a late `failed` runs the template fallback engine.
 */

let js: JourneyStack;
let wabaA: string;
let lineB: { id: string; phoneNumberId: string };
let tplA: { id: string; name: string };
let tplB: { id: string; name: string };
let groupId: string;

const digits = (n: number) => Array.from(randomBytes(n), (b) => String(b % 10)).join('').replace(/^0/, '1');
let phoneSeq = 0;
const newPhone = () => `97255${String(Date.now() % 1_000_000).padStart(6, '0')}${phoneSeq++}`;
const conn = () => js.stack.orm.em.getConnection();
const api = () => js.owner.agent;

beforeAll(async () => {
  js = await openJourneyStack();
  // A WhatsApp Business Account of this tenant alone, with a second line: the group's other line.
  wabaA = digits(15);
  expect((await api().put(`/api/settings/whatsapp/${js.line.id}`).send({ wabaId: wabaA })).status).toBe(200);
  const added = await api().post('/api/settings/whatsapp').send({ phoneNumberId: digits(12), wabaId: wabaA, displayPhoneNumber: '+15550003333', accessToken: js.sim.accessToken });
  expect(added.status).toBe(201);
  lineB = { id: added.body.id, phoneNumberId: added.body.phoneNumberId };
  const names = [`late_a_${digits(6)}`, `late_b_${digits(6)}`];
  for (const name of names) await js.sim.seedTemplate({ wabaId: wabaA, name, language: 'en', status: 'APPROVED' });
  expect((await api().post('/api/templates/sync').send({ phoneNumberId: js.line.phoneNumberId })).status).toBe(200);
  const all: Array<{ id: string; name: string }> = (await api().get('/api/templates').query({ wabaId: wabaA })).body;
  [tplA, tplB] = names.map((name) => all.find((t) => t.name === name)!);
  const group = await api().post('/api/templates/groups').send({ name: 'Late failures', templateIds: [tplA.id, tplB.id] });
  expect(group.status).toBe(201);
  groupId = group.body.id;
}, 90_000);
afterAll(async () => js?.close());
afterEach(async () => {
  await js.sim.configure({ recipients: {}, failTemplates: {} });
});

/** An agent's template reply to a new contact; the message row's id. */
async function reply(contact: string, template: { templateGroupId: string } | { templateName: string }): Promise<string> {
  const conversation = await upsertConversation(js.stack.orm.em.fork(), { tenantId: js.owner.user.tenantId, channel: 'whatsapp', lineId: js.line.id, contact });
  const res = await api()
    .post(`/api/conversations/${conversation.id}/reply`)
    .send({ messageType: 'template', templateLanguage: 'en', ...template });
  expect(res.status).toBe(200);
  const [row] = await conn().execute<Array<{ id: string }>>(`select id from messages where conversation_id = ? and direction = 'out' order by created_at desc limit 1`, [
    conversation.id,
  ]);
  return row.id;
}

const messageRow = async (id: string) =>
  (await conn().execute<Array<{ status: string; provider_message_id: string | null; error_code: number | null; template_name: string | null; stale_at: Date | null }>>(
    `select status, provider_message_id, error_code, template_name, stale_at from messages where id = ?`,
    [id],
  ))[0];

const attemptsOf = (id: string) =>
  conn().execute<Array<{ attempt_no: number; phone_number_id: string; template_name: string; outcome: string; error_code: number | null; provider_message_id: string | null }>>(
    `select attempt_no, phone_number_id, template_name, outcome, error_code, provider_message_id from message_attempts where message_id = ? order by attempt_no`,
    [id],
  );

const templatesSentTo = async (contact: string) => (await js.sim.messages({ to: contact })).map((m) => (m.body.template as { name: string }).name);

const expectNoWorkflow = (messageId: string) =>
  expect(js.stack.temporal.client.workflow.getHandle(followDeliveryWorkflowId(messageId, 0)).describe()).rejects.toThrow(WorkflowNotFoundError);

const followResult = (messageId: string, round = 0) =>
  eventually(
    async () => {
      try {
        return (await js.stack.temporal.client.workflow.getHandle(followDeliveryWorkflowId(messageId, round)).result()) as FollowResult;
      } catch {
        return undefined;
      }
    },
    `the delivery workflow of ${messageId}`,
  );

describe('the delivery workflow of a message', () => {
  it('131026 for one recipient after a late failed status: the next template of the group is tried and recorded', async () => {
    const failing = newPhone();
    const fine = newPhone();
    await js.sim.configure({ recipients: { [failing]: { autoStatuses: ['sent'], failWith: 131026, templates: [tplA.name] } } });
    const [late, ok] = [await reply(failing, { templateGroupId: groupId }), await reply(fine, { templateGroupId: groupId })];

    const settled = await eventually(async () => {
      const m = await messageRow(late);
      return m.status === 'read' ? m : undefined;
    }, 'the fallback send to be read');
    expect(settled).toMatchObject({ template_name: tplB.name, error_code: null });
    const attempts = await attemptsOf(late);
    expect(attempts).toMatchObject([
      { attempt_no: 1, phone_number_id: js.line.phoneNumberId, template_name: tplA.name, outcome: 'failed', error_code: 131026 },
      { attempt_no: 2, phone_number_id: js.line.phoneNumberId, template_name: tplB.name, outcome: 'sent', provider_message_id: settled.provider_message_id },
    ]);
    expect(await templatesSentTo(failing)).toEqual([tplA.name, tplB.name]);
    expect(await followResult(late)).toMatchObject({ outcome: 'delivered', providerMessageId: settled.provider_message_id, fallbacks: 1 });

    // The other recipient is left alone: one template, read, and no workflow was needed to follow it.
    await eventually(async () => (await messageRow(ok)).status === 'read', 'the other message to be read');
    expect(await templatesSentTo(fine)).toEqual([tplA.name]);
    expect(await attemptsOf(ok)).toMatchObject([{ attempt_no: 1, template_name: tplA.name, outcome: 'sent' }]);
    await expectNoWorkflow(ok);

    // The monitor's audit trail shows both tries.
    const audit = await api().get('/api/monitor/delivery').query({ messageId: late });
    expect(audit.status).toBe(200);
    expect(audit.body.attempts.map((a: { templateName: string; outcome: string }) => `${a.templateName}:${a.outcome}`)).toEqual([`${tplA.name}:failed`, `${tplB.name}:sent`]);
    expect(audit.body.trail.map((e: { event: string }) => e.event)).toEqual(expect.arrayContaining(['queued', 'attempt', 'sent', 'delivered', 'read']));
  });

  it('ignores a late status of a send the fallback replaced', async () => {
    const failing = newPhone();
    await js.sim.configure({ recipients: { [failing]: { autoStatuses: ['sent'], failWith: 131026, templates: [tplA.name] } } });
    const id = await reply(failing, { templateGroupId: groupId });
    await eventually(async () => (await messageRow(id)).status === 'read', 'the fallback send to be read');
    const [replaced] = await attemptsOf(id);

    const before = await messageRow(id);
    const inboxId = await postStatus(replaced.provider_message_id!, failing, 'delivered');
    const handled = await eventually(async () => {
      const [row] = await conn().execute<Array<{ processed_at: Date | null; attempts: number }>>(`select processed_at, attempts from webhook_inbox where id = ?`, [inboxId]);
      return row?.processed_at ? row : undefined;
    }, 'the stray status to be handled');
    expect(handled.attempts).toBe(1);
    expect(await messageRow(id)).toEqual(before);
  });

  it('when every template fails late on both lines of the group, the message is failed and each attempt recorded', async () => {
    const failing = newPhone();
    await js.sim.configure({ recipients: { [failing]: { autoStatuses: ['sent'], failWith: 131026, templates: [tplA.name, tplB.name] } } });
    const id = await reply(failing, { templateGroupId: groupId });
    expect(await followResult(id)).toMatchObject({ outcome: 'failed', fallbacks: 3 });
    expect(await attemptsOf(id)).toMatchObject([
      { phone_number_id: js.line.phoneNumberId, template_name: tplA.name, outcome: 'failed', error_code: 131026 },
      { phone_number_id: js.line.phoneNumberId, template_name: tplB.name, outcome: 'failed', error_code: 131026 },
      { phone_number_id: lineB.phoneNumberId, template_name: tplA.name, outcome: 'failed', error_code: 131026 },
      { phone_number_id: lineB.phoneNumberId, template_name: tplB.name, outcome: 'failed', error_code: 131026 },
    ]);
    expect(await messageRow(id)).toMatchObject({ status: 'failed', error_code: 131026 });
    expect(await templatesSentTo(failing)).toEqual([tplA.name, tplB.name, tplA.name, tplB.name]);
  });

  it('a manual retry of a group send that failed everywhere starts again from the group’s first template, as a new round', async () => {
    const contact = newPhone();
    await js.sim.configure({ failTemplates: { [tplA.name]: 132001, [tplB.name]: 132001 } });
    const conversation = await upsertConversation(js.stack.orm.em.fork(), { tenantId: js.owner.user.tenantId, channel: 'whatsapp', lineId: js.line.id, contact });
    const refused = await api().post(`/api/conversations/${conversation.id}/reply`).send({ messageType: 'template', templateLanguage: 'en', templateGroupId: groupId });
    expect(refused.status).toBe(502);
    const [{ id }] = await conn().execute<Array<{ id: string }>>(`select id from messages where conversation_id = ?`, [conversation.id]);
    expect(await attemptsOf(id)).toHaveLength(4);
    await js.sim.configure({ failTemplates: {} });

    const retried = await api().post('/api/monitor/delivery').send({ messageId: id });
    expect(retried.status).toBe(202);
    expect(retried.body).toMatchObject({ queued: 1, messages: [{ round: 1 }] });
    expect(await followResult(id, 1)).toMatchObject({ outcome: 'delivered', fallbacks: 0 });
    const attempts = await attemptsOf(id);
    expect(attempts.slice(4)).toMatchObject([{ attempt_no: 5, phone_number_id: js.line.phoneNumberId, template_name: tplA.name, outcome: 'sent' }]);
    expect(await templatesSentTo(contact)).toEqual([tplA.name]);
  });

  it('a late failure of a template sent by name has nothing to fall back to: failed with its code, no workflow, nothing sent again', async () => {
    const failing = newPhone();
    await js.sim.configure({ recipients: { [failing]: { autoStatuses: ['sent'], failWith: 131026 } } });
    const id = await reply(failing, { templateName: tplA.name });
    await eventually(async () => (await messageRow(id)).status === 'failed', 'the late failure');
    expect(await messageRow(id)).toMatchObject({ error_code: 131026 });
    await js.sim.settled();
    expect(await js.sim.messages({ to: failing })).toHaveLength(1);
    await expectNoWorkflow(id);
  });

  it('sends no other template to a recipient who stopped marketing messages (131050)', async () => {
    const refusing = newPhone();
    await js.sim.configure({ recipients: { [refusing]: { autoStatuses: ['sent'], failWith: 131050 } } });
    const id = await reply(refusing, { templateGroupId: groupId });
    await eventually(async () => (await messageRow(id)).status === 'failed', 'the late failure');
    await js.sim.settled();
    expect(await templatesSentTo(refusing)).toEqual([tplA.name]);
    expect(await messageRow(id)).toMatchObject({ error_code: 131050 });
    await expectNoWorkflow(id);
  });

  it('stops waiting after its bound: the message is marked stale and shown so by the monitor', async () => {
    const silent = newPhone();
    await js.sim.configure({ recipients: { [silent]: { autoStatuses: [] } } });
    const id = await reply(silent, { templateName: tplA.name });
    // Followed with a bound of a second instead of DELIVERY_FOLLOW_HOURS; nothing is heard.
    const input: FollowDeliveryInput = { tenantId: js.owner.user.tenantId, messageId: id, round: 0, followForMs: 1000 };
    const handle = await js.stack.temporal.client.workflow.start('followDelivery', {
      workflowId: followDeliveryWorkflowId(id, 0),
      taskQueue: js.stack.temporal.taskQueue,
      args: [input],
    });
    expect(await handle.result()).toMatchObject({ outcome: 'stale', fallbacks: 0 });
    expect((await messageRow(id)).stale_at).not.toBeNull();

    // Marked stale, it is listed as stale whatever the threshold asked for.
    const res = await api().get('/api/monitor/delivery').query({ status: 'stale', staleAfterMinutes: 600, lineId: js.line.id });
    expect(res.status).toBe(200);
    const listed = res.body.messages.find((m: { messageId: string }) => m.messageId === id);
    expect(listed).toMatchObject({ status: 'sent', stale: 'no_status', retry: { allowed: false, reason: 'already_accepted' } });
    expect(listed.staleMarkedAt).toEqual(expect.any(String));
  });
});

/** A signed status webhook for a wamid, as Meta would post it; the inbox row's id. */
async function postStatus(wamid: string, contact: string, status: string): Promise<string> {
  const body = JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: wabaA,
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550001111', phone_number_id: js.line.phoneNumberId },
              statuses: [{ id: wamid, status, timestamp: String(Math.floor(Date.now() / 1000)), recipient_id: contact }],
            },
          },
        ],
      },
    ],
  });
  const signature = `sha256=${createHmac('sha256', js.sim.appSecret).update(body).digest('hex')}`;
  const res = await js.stack.http().post('/api/webhook/whatsapp').set('Content-Type', 'application/json').set('X-Hub-Signature-256', signature).send(body);
  expect(res.status).toBe(200);
  const [row] = await conn().execute<Array<{ id: string }>>(`select id from webhook_inbox where kind = 'status' and payload->>'messageId' = ? order by id desc limit 1`, [wamid]);
  return row.id;
}
