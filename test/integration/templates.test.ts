import { randomBytes } from 'node:crypto';
import { createWhatsAppClient } from '../../activities/channels/whatsapp';
import { sendMessageActivity } from '../../activities/journey/send-message';
import { ChannelSendError } from '../../core/channels/errors';
import { secretBoxFor } from '../../core/crypto/secret-box';
import type { JourneyState } from '../../core/journey/types';
import { journeyWorkflowId } from '../../core/temporal/workflow-ids';
import { apiTokenFor, signedInAccount } from '../support/accounts';
import { eventually, openJourneyStack, type JourneyStack } from '../support/journey-stack';
import { expectTenantIsolation } from '../support/tenant-isolation';

/**
 * Templates, template groups and the fallback engine against the real stack: the API calls the WhatsApp
 * simulator (a separate process) as its Graph API, the simulator reviews templates and posts signed status
 * webhooks, and a real worker sends template groups with their fallback steps.
 */

let js: JourneyStack;
let token: string;
/** The owner's lines: A (primary) and B in one WhatsApp Business Account, C in another. */
let wabaA: string;
let lineB: { id: string; phoneNumberId: string };
let lineC: { id: string; phoneNumberId: string };

const digits = (n: number) => Array.from(randomBytes(n), (b) => String(b % 10)).join('').replace(/^0/, '1');
const unique = (prefix: string) => `${prefix}_${randomBytes(4).toString('hex')}`;
let phoneSeq = 0;
const newPhone = () => `97254${String(Date.now() % 1_000_000).padStart(6, '0')}${phoneSeq++}`;

async function addLine(wabaId: string, accessToken = js.sim.accessToken): Promise<{ id: string; phoneNumberId: string }> {
  const res = await js.owner.agent.post('/api/settings/whatsapp').send({ phoneNumberId: digits(12), wabaId, displayPhoneNumber: '+15550002222', accessToken });
  expect(res.status).toBe(201);
  return { id: res.body.id, phoneNumberId: res.body.phoneNumberId };
}

beforeAll(async () => {
  js = await openJourneyStack();
  token = await apiTokenFor(js.stack, js.owner.user);
  // A WhatsApp Business Account of this tenant alone, so its template webhooks find this tenant.
  wabaA = digits(15);
  expect((await js.owner.agent.put(`/api/settings/whatsapp/${js.line.id}`).send({ wabaId: wabaA })).status).toBe(200);
  lineB = await addLine(wabaA);
  lineC = await addLine(digits(15));
}, 60_000);
afterAll(async () => js?.close());
afterEach(async () => {
  await js.sim.configure({ failTemplates: {}, strictTemplates: false, templateReviewOutcome: 'APPROVED', templateReviewDelayMs: 300, templatePageLimit: 100 });
});

const api = () => js.owner.agent;
const body = (text: string) => [{ type: 'BODY', text }];
const createTemplate = (fields: Record<string, unknown> = {}) =>
  api().post('/api/templates').send({ name: unique('order_update'), language: 'en_US', category: 'UTILITY', components: body('Your order {{1}} shipped'), ...fields });
const templateOf = async (id: string) => (await api().get(`/api/templates/${id}`)).body;
const statusBecomes = (id: string, status: string) =>
  eventually(async () => {
    const t = await templateOf(id);
    return t.status === status ? t : undefined;
  }, `template ${id} to become ${status}`);

/** Templates made at Meta (the simulator) directly, then pulled in with a sync: their local rows. */
async function approvedTemplates(...names: string[]): Promise<Array<{ id: string; name: string }>> {
  for (const name of names) await js.sim.seedTemplate({ wabaId: wabaA, name, language: 'en', status: 'APPROVED' });
  expect((await api().post('/api/templates/sync').send({ phoneNumberId: js.line.phoneNumberId })).status).toBe(200);
  const all: Array<{ id: string; name: string }> = (await api().get('/api/templates').query({ wabaId: wabaA })).body;
  return names.map((name) => all.find((t) => t.name === name)!);
}

async function group(templateIds: string[], preferredPhoneNumberId?: string): Promise<string> {
  const res = await api().post('/api/templates/groups').send({ name: unique('group'), templateIds, preferredPhoneNumberId });
  expect(res.status).toBe(201);
  return res.body.id;
}

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
let flowId: string;
async function publishedFlow(): Promise<string> {
  if (flowId) return flowId;
  const created = await api().post('/api/flows').send({ name: 'Template qualifier', graph: qualifier });
  expect((await api().post(`/api/flows/${created.body.id}/versions`)).status).toBe(201);
  expect((await api().put(`/api/flows/${created.body.id}`).send({ status: 'active' })).status).toBe(200);
  return (flowId = created.body.id);
}

const outbound = (payload: object) => js.stack.http().post('/api/webhook/outbound').set('Authorization', `Bearer ${token}`).send(payload);
const sentTo = (phone: string, n = 1) =>
  eventually(async () => {
    const messages = await js.sim.messages({ to: phone });
    return messages.length >= n ? messages : undefined;
  }, `${n} message(s) to ${phone}`);
const templateNameOf = (m: { body: Record<string, unknown> }) => (m.body.template as { name: string }).name;
const checkSent = (query: Record<string, string>) => api().get('/api/templates/check-sent').query(query);
const outboundStatus = (payload: object) => js.stack.http().post('/api/webhook/outbound-status').set('Authorization', `Bearer ${token}`).send(payload);

describe('templates at WhatsApp', () => {
  it('creates a template at the WABA, lists it PENDING, and the status webhook makes it APPROVED', async () => {
    await js.sim.configure({ templateReviewDelayMs: 1500 });
    const res = await createTemplate({ phoneNumberId: lineB.phoneNumberId });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'PENDING', category: 'UTILITY', language: 'en_US', wabaId: wabaA, providerTemplateId: expect.stringMatching(/^\d+$/) });
    const atMeta = (await js.sim.templates()).find((t) => t.id === res.body.providerTemplateId);
    expect(atMeta).toMatchObject({ wabaId: wabaA, name: res.body.name, status: 'PENDING', components: body('Your order {{1}} shipped') });

    const listed = await api().get('/api/templates').query({ status: 'PENDING' });
    expect(listed.status).toBe(200);
    expect(listed.body.map((t: { id: string }) => t.id)).toContain(res.body.id);

    await statusBecomes(res.body.id, 'APPROVED');
    const webhooks = await js.sim.webhooks({ kind: 'event:message_template_status_update' });
    expect(webhooks.some((w) => JSON.stringify(w.body).includes(res.body.providerTemplateId) && w.delivered)).toBe(true);

    // A quality update for the same template is recorded too.
    await js.sim.configure({ wabaId: wabaA });
    await js.sim.event('message_template_quality_update', {
      previous_quality_score: 'UNKNOWN',
      new_quality_score: 'GREEN',
      message_template_id: Number(res.body.providerTemplateId),
      message_template_name: res.body.name,
      message_template_language: 'en_US',
    });
    await eventually(async () => ((await templateOf(res.body.id)).qualityScore === 'GREEN' ? true : undefined), 'the quality score');
  });

  it("records a rejection with Meta's reason", async () => {
    await js.sim.configure({ templateReviewOutcome: 'REJECTED' });
    const res = await createTemplate();
    expect(res.status).toBe(201);
    const rejected = await statusBecomes(res.body.id, 'REJECTED');
    expect(rejected.rejectedReason).toBe('INVALID_FORMAT');
  });

  it('answers 400 naming the field, 409 for a duplicate, and 400 with Meta\'s own reason when WhatsApp refuses', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ name: 'Order Update' }, /name: may contain lowercase letters, digits and underscores only/],
      [{ category: 'PROMO' }, /category: must be one of MARKETING, UTILITY, AUTHENTICATION/],
      [{ components: [{ type: 'FOOTER', text: 'bye' }] }, /components: must have exactly one BODY component/],
      [{ components: [{ type: 'PICTURE' }] }, /components\.0\.type: must be HEADER, BODY, FOOTER or BUTTONS/],
      [{ language: 'english!' }, /language: must be a language code/],
      [{ phoneNumberId: '424242' }, /phoneNumberId: none of your WhatsApp lines has phone number id 424242/],
    ];
    for (const [fields, error] of cases) {
      const res = await createTemplate(fields);
      expect({ fields, status: res.status, error: res.body.error }).toEqual({ fields, status: 400, error: expect.stringMatching(error) });
    }
    const empty = await api().post('/api/templates').send({});
    expect(empty.status).toBe(400);
    for (const field of ['name:', 'language:', 'category:', 'components:']) expect(empty.body.error).toContain(field);

    const first = await createTemplate();
    const again = await createTemplate({ name: first.body.name });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatch(/already exists/);

    // Made in Meta's own tools, unknown here: Meta refuses the duplicate and says why.
    const name = unique('made_elsewhere');
    await js.sim.seedTemplate({ wabaId: wabaA, name, language: 'en_US' });
    const refused = await createTemplate({ name });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatch(/WhatsApp refused to create template .*There is already en_US content for this template.*code 100/);
  });

  it('answers 502 and marks the line as needing re-authentication when WhatsApp refuses its token', async () => {
    const badLine = await addLine(digits(15), 'a-token-meta-does-not-know');
    const res = await createTemplate({ phoneNumberId: badLine.phoneNumberId });
    expect(res.status).toBe(502);
    expect(res.body.error).toMatch(/refused the access token.*re-authentication/);
    expect((await api().get(`/api/settings/whatsapp/${badLine.id}`)).body.status).toBe('needs_reauth');
    const again = await createTemplate({ phoneNumberId: badLine.phoneNumberId });
    expect(again.status).toBe(502);
    expect(again.body.error).toMatch(/needs_reauth/);
  });

  it("syncs the WABA's templates page by page, updates those it knows, removes those WhatsApp no longer has", async () => {
    await js.sim.configure({ templatePageLimit: 2 });
    const names = [unique('sync_a'), unique('sync_b'), unique('sync_c')];
    await js.sim.seedTemplate({ wabaId: wabaA, name: names[0], language: 'he', status: 'APPROVED' });
    await js.sim.seedTemplate({ wabaId: wabaA, name: names[1], language: 'en', status: 'PAUSED' });
    await js.sim.seedTemplate({ wabaId: wabaA, name: names[2], language: 'en', status: 'APPROVED', category: 'MARKETING' });
    const sync = await api().post('/api/templates/sync').send({ phoneNumberId: js.line.phoneNumberId });
    expect(sync.status).toBe(200);
    expect(sync.body).toMatchObject({ success: true, wabaIds: [wabaA] });
    expect(sync.body.created).toBeGreaterThanOrEqual(3);
    const byName = (list: Array<{ name: string }>) => new Map(list.map((t) => [t.name, t]));
    const local = byName(sync.body.templates);
    expect(local.get(names[0])).toMatchObject({ language: 'he', status: 'APPROVED' });
    expect(local.get(names[1])).toMatchObject({ status: 'PAUSED' });
    expect(local.get(names[2])).toMatchObject({ status: 'APPROVED', category: 'MARKETING' });

    // Syncing every account: one whose token WhatsApp refuses is reported, the others are synced.
    const refusedWaba = digits(15);
    await addLine(refusedWaba, 'a-token-meta-does-not-know');
    const all = await api().post('/api/templates/sync');
    expect(all.status).toBe(200);
    expect(all.body.wabaIds).toContain(wabaA);
    expect(all.body.skipped).toEqual(expect.arrayContaining([{ wabaId: refusedWaba, reason: expect.stringMatching(/refused the access token/) }]));

    // Deleted at Meta directly: GET ?sync=1 drops it; the others are updated, not duplicated.
    const gone = await fetch(`${js.sim.url}/v25.0/${wabaA}/message_templates?name=${names[2]}`, { method: 'DELETE', headers: { authorization: `Bearer ${js.sim.accessToken}` } });
    expect(gone.status).toBe(200);
    const listed = await api().get('/api/templates').query({ sync: '1', wabaId: wabaA });
    expect(listed.status).toBe(200);
    const after = byName(listed.body);
    expect(after.has(names[2])).toBe(false);
    expect(listed.body.filter((t: { name: string }) => t.name === names[0])).toHaveLength(1);
  });

  it('edits a template at WhatsApp, which reviews it again', async () => {
    const created = await createTemplate();
    await statusBecomes(created.body.id, 'APPROVED');
    await js.sim.configure({ templateReviewDelayMs: 1500 });
    const edited = await api().put(`/api/templates/${created.body.id}`).send({ components: body('Order {{1}} is on its way') });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ status: 'PENDING', components: body('Order {{1}} is on its way') });
    expect((await js.sim.templates()).find((t) => t.id === created.body.providerTemplateId)?.components).toEqual(body('Order {{1}} is on its way'));
    await statusBecomes(created.body.id, 'APPROVED');
    expect((await api().put(`/api/templates/${created.body.id}`).send({})).body.error).toMatch(/components: give category or components to change/);
  });

  it('deletes a template at WhatsApp, then here', async () => {
    const created = await createTemplate();
    const res = await api().delete(`/api/templates/${created.body.id}`);
    expect(res.status).toBe(200);
    expect((await js.sim.templates()).some((t) => t.id === created.body.providerTemplateId)).toBe(false);
    expect((await api().get(`/api/templates/${created.body.id}`)).status).toBe(404);
  });
});

describe("the simulator's template checks", () => {
  it('refuses, as Meta does, a template it holds only unapproved or in another language (132001), and in strict mode one it does not hold', async () => {
    const client = createWhatsAppClient({ graphUrl: js.sim.url, apiVersion: 'v25.0' });
    const send = (name: string, language: string) =>
      client.sendMessage({ phoneNumberId: js.line.phoneNumberId, accessToken: js.sim.accessToken, to: newPhone(), message: { type: 'template', name, language } });
    const paused = unique('sim_paused');
    const approved = unique('sim_approved');
    await js.sim.seedTemplate({ wabaId: wabaA, name: paused, language: 'en', status: 'PAUSED' });
    await js.sim.seedTemplate({ wabaId: wabaA, name: approved, language: 'en' });
    await expect(send(paused, 'en')).rejects.toMatchObject({ code: 132001, errorClass: 'definitive' });
    await expect(send(approved, 'he')).rejects.toMatchObject({ code: 132001, errorClass: 'definitive' });
    await expect(send(approved, 'en')).resolves.toMatchObject({ wamid: expect.stringMatching(/^wamid\./) });
    const neverMade = unique('never_made');
    await expect(send(neverMade, 'en')).resolves.toMatchObject({ wamid: expect.any(String) });
    await js.sim.configure({ strictTemplates: true });
    await expect(send(neverMade, 'en')).rejects.toMatchObject({ code: 132001 });
    await js.sim.configure({ failTemplates: { [approved]: 131026 } });
    await expect(send(approved, 'en')).rejects.toMatchObject({ code: 131026, errorClass: 'definitive' });
  });
});

describe('template groups', () => {
  it('keeps the fallback order and the preferred line, changed by body id, query id or path', async () => {
    const [t1, t2] = await approvedTemplates(unique('grp_one'), unique('grp_two'));
    const created = await api().post('/api/templates/groups').send({ name: 'Welcome', templateIds: [t1.id, t2.id], preferredPhoneNumberId: lineB.phoneNumberId });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Welcome', templateIds: [t1.id, t2.id], preferredPhoneNumberId: lineB.phoneNumberId, wabaId: wabaA });
    expect(created.body.templates.map((t: { name: string }) => t.name)).toEqual([t1.name, t2.name]);
    const id = created.body.id;

    expect((await api().put('/api/templates/groups').send({ id, templateIds: [t2.id, t1.id] })).body.templateIds).toEqual([t2.id, t1.id]);
    expect((await api().put('/api/templates/groups').query({ id }).send({ name: 'Welcome back' })).body).toMatchObject({ name: 'Welcome back', templateIds: [t2.id, t1.id] });
    expect((await api().put(`/api/templates/groups/${id}`).send({ preferredPhoneNumberId: null })).body.preferredPhoneNumberId).toBeNull();
    expect((await api().get(`/api/templates/groups/${id}`)).body).toMatchObject({ name: 'Welcome back', templateIds: [t2.id, t1.id], preferredPhoneNumberId: null });
    expect((await api().get('/api/templates/groups')).body.map((g: { id: string }) => g.id)).toContain(id);

    expect((await api().delete('/api/templates/groups').query({ id })).status).toBe(200);
    expect((await api().get(`/api/templates/groups/${id}`)).status).toBe(404);
    const other = await group([t1.id]);
    expect((await api().delete('/api/templates/groups').send({ id: other })).status).toBe(200);
    expect((await api().get(`/api/templates/groups/${other}`)).status).toBe(404);
  });

  it('answers 400 naming the field: a preferred line of another WABA, templates of two WABAs, a template not yours, no id', async () => {
    const [t1] = await approvedTemplates(unique('val_one'));
    await js.sim.seedTemplate({ wabaId: (await api().get(`/api/settings/whatsapp/${lineC.id}`)).body.wabaId, name: unique('val_c'), language: 'en' });
    await api().post('/api/templates/sync');
    const inC = (await api().get('/api/templates')).body.find((t: { wabaId: string }) => t.wabaId !== wabaA);
    expect(inC).toBeDefined();

    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ templateIds: [t1.id], preferredPhoneNumberId: lineC.phoneNumberId }, /preferredPhoneNumberId: the line \d+ belongs to WhatsApp Business Account \d+, the group's templates to \d+/],
      [{ templateIds: [t1.id], preferredPhoneNumberId: '999' }, /preferredPhoneNumberId: none of your WhatsApp lines has phone number id 999/],
      [{ templateIds: [t1.id, inC.id] }, /templateIds: all templates of a group must belong to one WhatsApp Business Account/],
      [{ templateIds: [t1.id, '00000000-0000-4000-8000-000000000000'] }, /templateIds\.1: no template with id/],
      [{ templateIds: [t1.id, t1.id] }, /templateIds: must not repeat a template/],
      [{ templateIds: [] }, /templateIds: give at least one template/],
    ];
    for (const [fields, error] of cases) {
      const res = await api().post('/api/templates/groups').send({ name: 'Bad', ...fields });
      expect({ fields, status: res.status, error: res.body.error }).toEqual({ fields, status: 400, error: expect.stringMatching(error) });
    }
    const id = await group([t1.id], lineB.phoneNumberId);
    const noId = await api().put('/api/templates/groups').send({ name: 'x' });
    expect(noId.status).toBe(400);
    expect(noId.body.error).toMatch(/id: required/);
    const nothing = await api().put(`/api/templates/groups/${id}`).send({});
    expect(nothing.body.error).toMatch(/give name, templateIds or preferredPhoneNumberId/);
    const moved = await api().put(`/api/templates/groups/${id}`).send({ preferredPhoneNumberId: lineC.phoneNumberId });
    expect(moved.status).toBe(400);
    expect((await api().get(`/api/templates/groups/${id}`)).body.preferredPhoneNumberId).toBe(lineB.phoneNumberId);
  });

  it("answers 404 to another tenant for a template or a group, and leaves them as they were", async () => {
    const [t1] = await approvedTemplates(unique('iso_one'));
    const id = await group([t1.id], lineB.phoneNumberId);
    const outsider = await signedInAccount(js.stack);
    await expectTenantIsolation({
      outsider,
      routes: [
        { method: 'get', path: `/api/templates/${t1.id}` },
        { method: 'put', path: `/api/templates/${t1.id}`, body: { category: 'MARKETING' } },
        { method: 'delete', path: `/api/templates/${t1.id}` },
        { method: 'get', path: `/api/templates/groups/${id}` },
        { method: 'put', path: `/api/templates/groups/${id}`, body: { name: 'Mine now' } },
        { method: 'put', path: '/api/templates/groups', body: { id, name: 'Mine now' } },
        { method: 'delete', path: `/api/templates/groups/${id}` },
        { method: 'delete', path: `/api/templates/groups?id=${id}` },
      ],
      stillThere: async () => {
        const template = await templateOf(t1.id);
        const g = (await api().get(`/api/templates/groups/${id}`)).body;
        return template.category === 'UTILITY' && g.name !== 'Mine now' && g.templateIds[0] === t1.id;
      },
    });
    // Another tenant's template cannot be put into one's own group, nor sent.
    const borrowed = await outsider.agent.post('/api/templates/groups').send({ name: 'Borrowed', templateIds: [t1.id] });
    expect(borrowed.status).toBe(400);
    expect(borrowed.body.error).toMatch(/templateIds\.0: no template with id/);
    expect((await outsider.agent.get('/api/templates')).body).toEqual([]);
    expect((await outsider.agent.get('/api/templates/groups')).body).toEqual([]);
  });
});

describe('template sends with the fallback engine', () => {
  it('an outbound trigger with a group: the first template fails definitively, the second is delivered, both attempts are recorded, the reply continues the flow', async () => {
    const [first, second] = await approvedTemplates(unique('fb_first'), unique('fb_second'));
    const groupId = await group([first.id, second.id]);
    await js.sim.configure({ failTemplates: { [first.name]: 132001 }, strictTemplates: true });
    const phone = newPhone();
    const sourceRef = unique('crm');
    const res = await outbound({ phone: `+${phone}`, flowId: await publishedFlow(), templateGroupId: groupId, data: { sourceRef, campaignId: 'spring', templateParams: ['123456'] } });
    expect(res.status).toBe(200);

    const [sent] = await sentTo(phone);
    expect(templateNameOf(sent)).toBe(second.name);
    expect(sent.phoneNumberId).toBe(js.line.phoneNumberId);
    expect(sent.body.template).toMatchObject({ language: { code: 'en' }, components: [{ type: 'body', parameters: [{ type: 'text', text: '123456' }] }] });

    const state = await eventually(async () => {
      const r = await checkSent({ sourceRef });
      return r.body.messages?.[0]?.status === 'read' ? r.body : undefined;
    }, 'the template to be read');
    expect(state).toMatchObject({ success: true, found: true, sent: true, status: 'read', count: 1 });
    expect(state.messages[0]).toMatchObject({ phone: `+${phone}`, templateName: second.name, sourceRef, campaignId: 'spring', providerMessageId: sent.wamid, phoneNumberId: js.line.phoneNumberId });
    expect(state.messages[0].attempts).toEqual([
      expect.objectContaining({ attemptNo: 1, templateName: first.name, phoneNumberId: js.line.phoneNumberId, outcome: 'failed', errorCode: 132001 }),
      expect.objectContaining({ attemptNo: 2, templateName: second.name, phoneNumberId: js.line.phoneNumberId, outcome: 'sent', providerMessageId: sent.wamid }),
    ]);
    expect(state.messages[0].deliveredAt).not.toBeNull();

    await js.sim.inbound({ from: phone, phoneNumberId: js.line.phoneNumberId, text: 'hi' });
    const [, question] = await sentTo(phone, 2);
    expect((question.body.text as { body: string }).body).toBe('How old are you?');
  });

  it("every template fails on the journey's line: the group's preferred line sends it", async () => {
    const [first, second] = await approvedTemplates(unique('pl_first'), unique('pl_second'));
    const groupId = await group([first.id, second.id], lineB.phoneNumberId);
    const lineA = js.line.phoneNumberId;
    await js.sim.configure({ failTemplates: { [`${first.name}@${lineA}`]: 131026, [`${second.name}@${lineA}`]: 132000 } });
    const phone = newPhone();
    const res = await outbound({ phone, flowId: await publishedFlow(), templateGroupId: groupId, data: { phoneNumberId: lineA, sourceRef: unique('crm') } });
    expect(res.status).toBe(200);
    expect(res.body.journeyId).toContain(`/${js.line.id}/`);

    const [sent] = await sentTo(phone);
    expect(sent.phoneNumberId).toBe(lineB.phoneNumberId);
    expect(templateNameOf(sent)).toBe(first.name);
    const byPhone = await eventually(async () => {
      const r = await outboundStatus({ phone });
      return r.body.messages?.[0]?.status === 'read' ? r.body : undefined;
    }, 'the send to be read');
    expect(byPhone.messages[0].phoneNumberId).toBe(lineB.phoneNumberId);
    expect(byPhone.messages[0].attempts.map((a: { phoneNumberId: string; templateName: string; outcome: string; errorCode: number | null }) => [a.phoneNumberId, a.templateName, a.outcome, a.errorCode])).toEqual([
      [lineA, first.name, 'failed', 131026],
      [lineA, second.name, 'failed', 132000],
      [lineB.phoneNumberId, first.name, 'sent', null],
    ]);
  });

  it('sends from the preferred line when neither the caller nor the flow names one', async () => {
    const [only] = await approvedTemplates(unique('pref_only'));
    const groupId = await group([only.id], lineB.phoneNumberId);
    const phone = newPhone();
    const res = await outbound({ phone, flowId: await publishedFlow(), templateGroupId: groupId });
    expect(res.body.journeyId).toContain(`/${lineB.id}/`);
    expect((await sentTo(phone))[0].phoneNumberId).toBe(lineB.phoneNumberId);
  });

  it('every template fails on every line: the message is failed with the last error, and polling says so', async () => {
    const [first, second] = await approvedTemplates(unique('all_first'), unique('all_second'));
    const groupId = await group([first.id, second.id], lineB.phoneNumberId);
    await js.sim.configure({ failTemplates: { [first.name]: 131026, [second.name]: 131050 } });
    const phone = newPhone();
    const sourceRef = unique('crm');
    expect((await outbound({ phone, flowId: await publishedFlow(), templateGroupId: groupId, data: { sourceRef } })).status).toBe(200);
    const failed = await eventually(async () => {
      const r = await outboundStatus({ sourceRef });
      return r.body.messages?.[0]?.status === 'failed' ? r.body : undefined;
    }, 'the send to fail');
    expect(failed).toMatchObject({ found: true, sent: false, status: 'failed' });
    expect(failed.messages[0]).toMatchObject({ errorCode: 131050, errorTitle: expect.stringMatching(/No template could be sent \(4 candidates tried\)/) });
    expect(failed.messages[0].attempts.map((a: { outcome: string }) => a.outcome)).toEqual(['failed', 'failed', 'failed', 'failed']);
    expect(await js.sim.messages({ to: phone })).toEqual([]);
    // The journey (on the group's preferred line) is not left waiting for a reply to a template that never went out.
    const journey = await js.stack.temporal.client.workflow
      .getHandle(journeyWorkflowId({ tenantId: js.owner.user.tenantId, channel: 'whatsapp', lineId: lineB.id, contact: phone }))
      .query<JourneyState>('state');
    expect(journey).toMatchObject({ status: 'idle', lastError: expect.stringMatching(/the opening template could not be sent: No template could be sent/) });
  });

  it("a flow's Send Template node with a template group goes through the same fallback", async () => {
    const [first, second] = await approvedTemplates(unique('node_first'), unique('node_second'));
    const groupId = await group([first.id, second.id]);
    await js.sim.configure({ failTemplates: { [first.name]: 132000 } });
    const created = await api()
      .post('/api/flows')
      .send({
        name: 'Group node',
        graph: {
          nodes: [
            { id: 'start', type: 'trigger_outbound', data: {} },
            { id: 'hello', type: 'send_template', data: { templateGroupId: groupId, params: ['{{customerName}}'] } },
          ],
          edges: [{ source: 'start', target: 'hello' }],
        },
      });
    expect((await api().post(`/api/flows/${created.body.id}/versions`)).status).toBe(201);
    expect((await api().put(`/api/flows/${created.body.id}`).send({ status: 'active' })).status).toBe(200);
    const phone = newPhone();
    expect((await outbound({ phone, flowId: created.body.id, data: { customerName: 'Noa' } })).status).toBe(200);
    const [sent] = await sentTo(phone);
    expect(templateNameOf(sent)).toBe(second.name);
    expect(sent.body.template).toMatchObject({ components: [{ type: 'body', parameters: [{ type: 'text', text: 'Noa' }] }] });
  });

  it('an outbound trigger with a single template id, given in data as the seed does', async () => {
    const [only] = await approvedTemplates(unique('single'));
    const phone = newPhone();
    expect((await outbound({ phone, flowId: await publishedFlow(), data: { templateId: only.id } })).status).toBe(200);
    expect(templateNameOf((await sentTo(phone))[0])).toBe(only.name);
  });

  it('refuses a template reference that is malformed, unknown or has nothing APPROVED, and sends nothing', async () => {
    const fid = await publishedFlow();
    const phone = newPhone();
    const [pending] = await approvedTemplates(unique('still_pending'));
    await js.stack.orm.em.fork().getConnection().execute(`update templates set status = 'PENDING' where id = ?`, [pending.id]);
    const pendingGroup = await group([pending.id]);
    const cases: Array<[object, number, RegExp]> = [
      [{ templateGroupId: 'not-a-uuid' }, 400, /templateGroupId: must be the template group id/],
      [{ templateId: 'nope' }, 400, /templateId: must be the template id/],
      [{ data: { templateGroupId: 42 } }, 400, /data\.templateGroupId: must be a UUID/],
      [{ templateGroupId: '00000000-0000-4000-8000-000000000000' }, 404, /Template group not found/],
      [{ templateId: '00000000-0000-4000-8000-000000000000' }, 404, /Template not found/],
      [{ templateGroupId: pendingGroup }, 400, /templateGroupId: the template group ".*" has no APPROVED template: .* is PENDING/],
      [{ templateId: pending.id }, 400, /templateId: the template .* is PENDING, not APPROVED/],
    ];
    for (const [fields, status, error] of cases) {
      const res = await outbound({ phone, flowId: fid, ...fields });
      expect({ fields, status: res.status, error: res.body.error }).toEqual({ fields, status, error: expect.stringMatching(error) });
    }
    expect(await js.sim.messages({ to: phone })).toEqual([]);
  });

  it('an agent replies with a template id or a template group', async () => {
    const [first, second] = await approvedTemplates(unique('reply_first'), unique('reply_second'));
    const groupId = await group([first.id, second.id]);
    await js.sim.configure({ failTemplates: { [first.name]: 132012 } });
    const phone = newPhone();
    await js.sim.inbound({ from: phone, phoneNumberId: js.line.phoneNumberId, text: 'hello' });
    const conversation = await eventually(async () => {
      const list = (await api().get('/api/conversations').query({ search: phone })).body;
      return list[0];
    }, 'the conversation');
    const byGroup = await api().post(`/api/conversations/${conversation.id}/reply`).send({ messageType: 'template', templateGroupId: groupId, templateParams: ['A-1'] });
    expect(byGroup.status).toBe(200);
    const byId = await api().post(`/api/conversations/${conversation.id}/reply`).send({ messageType: 'template', templateId: second.id });
    expect(byId.status).toBe(200);
    expect((await sentTo(phone, 2)).map(templateNameOf)).toEqual([second.name, second.name]);
    const unknown = await api().post(`/api/conversations/${conversation.id}/reply`).send({ messageType: 'template', templateId: '00000000-0000-4000-8000-000000000000' });
    expect(unknown.status).toBe(404);
    const neither = await api().post(`/api/conversations/${conversation.id}/reply`).send({ messageType: 'template' });
    expect(neither.body.error).toMatch(/templateName: give templateName, templateId or templateGroupId/);
  });

  it('a retried send never sends an attempt again once it succeeded, and takes up an attempt a transient error interrupted', async () => {
    const [first, second] = await approvedTemplates(unique('retry_first'), unique('retry_second'));
    const groupId = await group([first.id, second.id]);
    await js.sim.configure({ failTemplates: { [first.name]: 132001 } });
    const real = createWhatsAppClient({ graphUrl: js.sim.url, apiVersion: 'v25.0' });
    let failNextSecond = true;
    const flaky = {
      ...real,
      async sendMessage(req: Parameters<typeof real.sendMessage>[0]) {
        if (req.message.type === 'template' && req.message.name === second.name && failNextSecond) {
          failNextSecond = false;
          throw new ChannelSendError({ errorClass: 'transient', message: 'Service temporarily unavailable', code: 2 });
        }
        return real.sendMessage(req);
      },
    };
    const send = sendMessageActivity({ orm: js.stack.orm, box: secretBoxFor(js.stack.deps.config), whatsapp: flaky, tenantFetch: fetch });
    const phone = newPhone();
    const input = {
      key: { tenantId: js.owner.user.tenantId, channel: 'whatsapp' as const, lineId: js.line.id, contact: phone },
      idempotencyKey: `test-retry/${phone}`,
      message: { type: 'template' as const, templateGroupId: groupId, language: 'en', params: [] },
    };
    await expect(send(input)).rejects.toMatchObject({ nonRetryable: false });
    const done = await send(input);
    expect(done.providerMessageId).toMatch(/^wamid\./);

    // As if the worker died after WhatsApp accepted the message and before the row said so.
    const sql = js.stack.orm.em.fork().getConnection();
    await sql.execute(`update messages set provider_message_id = null, status = 'queued' where id = ?`, [done.messageId]);
    const retried = await send(input);
    expect(retried).toEqual(done);
    expect(await js.sim.messages({ to: phone })).toHaveLength(1);
    const attempts = await sql.execute<Array<{ attempt_no: number; template_name: string; outcome: string; tries: number }>>(
      `select attempt_no, template_name, outcome, tries from message_attempts where message_id = ? order by attempt_no`,
      [done.messageId],
    );
    expect(attempts).toEqual([
      { attempt_no: 1, template_name: first.name, outcome: 'failed', tries: 1 },
      { attempt_no: 2, template_name: second.name, outcome: 'sent', tries: 2 },
    ]);
  });
});

describe('delivery look-ups', () => {
  it('check-sent and outbound-status answer by phone, sourceRef, message id and wamid, with a session or a Bearer token', async () => {
    const [only] = await approvedTemplates(unique('lookup'));
    const phone = newPhone();
    const sourceRef = unique('crm');
    expect((await outbound({ phone, flowId: await publishedFlow(), templateId: only.id, data: { sourceRef } })).status).toBe(200);
    const [sent] = await sentTo(phone);
    const read = await eventually(async () => {
      const r = await checkSent({ phone: `+${phone}` });
      return r.body.status === 'read' ? r.body : undefined;
    }, 'the send to be read');
    const messageId = read.messages[0].messageId;
    expect(read.messages[0]).toMatchObject({ providerMessageId: sent.wamid, templateName: only.name, sourceRef, readAt: expect.any(String) });

    expect((await checkSent({ sourceRef })).body.messages.map((m: { messageId: string }) => m.messageId)).toEqual([messageId]);
    expect((await checkSent({ templateName: only.name })).body.messages.map((m: { messageId: string }) => m.messageId)).toEqual([messageId]);
    expect((await checkSent({ sourceRef: 'nothing-like-it' })).body).toMatchObject({ found: false, sent: false, status: null, count: 0, messages: [] });
    for (const query of [{ messageId }, { messageId: sent.wamid }, { sourceRef }, { phone }]) {
      const bearer = await outboundStatus(query);
      expect({ query, status: bearer.status, state: bearer.body.status, ids: bearer.body.messages?.map((m: { messageId: string }) => m.messageId) }).toEqual({
        query,
        status: 200,
        state: 'read',
        ids: [messageId],
      });
    }
    const bySession = await api().post('/api/webhook/outbound-status').send({ sourceRef });
    expect(bySession.body).toMatchObject({ sent: true, status: 'read' });

    const noFilter = await api().get('/api/templates/check-sent');
    expect(noFilter.status).toBe(400);
    expect(noFilter.body.error).toMatch(/phone: give phone, sourceRef, campaignId or templateName/);
    const noBody = await outboundStatus({});
    expect(noBody.status).toBe(400);
    expect(noBody.body.error).toMatch(/messageId: give messageId, phone, sourceRef or campaignId/);
    expect((await checkSent({ phone: 'not a phone' })).body.error).toMatch(/phone:/);
    expect((await js.stack.http().post('/api/webhook/outbound-status').send({ sourceRef })).status).toBe(401);

    const outsider = await signedInAccount(js.stack);
    expect((await outsider.agent.post('/api/webhook/outbound-status').send({ messageId })).body).toMatchObject({ found: false, messages: [] });
  });
});
