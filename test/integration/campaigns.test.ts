import { randomUUID } from 'node:crypto';
import { apiCredentialsFor, signedInAccount, uniqueIp } from '../support/accounts';
import { addLine, campaignOf, deliveryGaps, linePacing, newPhones, waitForCampaign } from '../support/campaigns';
import { eventually, openJourneyStack, type JourneyStack } from '../support/journey-stack';
import { expectTenantIsolation } from '../support/tenant-isolation';
import { startStackWorker, type WorkerProcess } from '../support/worker-process';

let js: JourneyStack;
let worker: WorkerProcess;
let token: string;

// The worker runs in a process of its own, as in production: the API, the webhook dispatcher and the
// simulator's status webhooks in this process do not hold up its sends.
beforeAll(async () => {
  js = await openJourneyStack({ worker: false });
  worker = await startStackWorker(js);
  const { clientId, apiKey } = await apiCredentialsFor(js.stack, js.owner.user);
  token = (await js.stack.http().post('/api/auth/api-token').set('X-Forwarded-For', uniqueIp()).send({ clientId, apiKey })).body.accessToken;
  // Freshly started processes (the worker, the simulator) are slow for their first second of sends while the
  // JavaScript engine compiles the hot paths, and bunch them: measure the lines' pacing on warm processes.
  const warmUp = await addLine(js, js.owner);
  const id = await startCampaign({ templateName: 'warm_up', phoneNumberId: warmUp.phoneNumberId, recipients: newPhones(150) });
  await waitForCampaign(js.owner, id, (c) => c.status === 'completed', 'the warm-up campaign');
}, 90_000);
afterAll(async () => {
  await worker?.stop();
  await js?.close();
});
beforeEach(async () => js.sim.reset());

/** POST /api/templates/bulk-send with the integrator's API JWT. */
const bulkSend = (body: object, headers: Record<string, string> = {}) =>
  js.stack.http().post('/api/templates/bulk-send').set('Authorization', `Bearer ${token}`).set(headers).send(body);

async function startCampaign(body: object): Promise<string> {
  const res = await bulkSend(body);
  expect(res.status).toBe(202);
  return res.body.campaignId;
}

const sentCount = async (phoneNumberId?: string) => (await js.sim.messages(phoneNumberId ? { phoneNumberId } : {})).length;

describe('bulk sends at the line rate', () => {
  it('sends 1,000 recipients exactly once each through a simulator enforcing 80/s, with no rate error, close to the rate', async () => {
    await js.sim.configure({ rateLimitPerSecond: 80 });
    const phones = newPhones(1000);
    const res = await bulkSend({ templateName: 'spring_sale', language: 'en_US', recipients: phones.map((phone, i) => ({ phone, params: [`Customer ${i}`] })) });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ success: true, status: 'running', recipients: 1000, duplicates: 0, phoneNumberId: js.line.phoneNumberId });
    expect(res.body.progressUrl).toBe(`/api/campaigns/${res.body.campaignId}`);

    const done = await waitForCampaign(js.owner, res.body.campaignId, (c) => c.status === 'completed', 'the campaign to complete', 45_000);
    expect(done.progress).toMatchObject({ total: 1000, queued: 0, failed: 0, skipped: 0 });
    expect(await deliveryGaps(js, phones)).toEqual({ missing: [], duplicated: [] });
    expect(await js.sim.rejections({ code: 130429 })).toEqual([]);
    const pacing = await linePacing(js, js.line.phoneNumberId, 80);
    console.log(`1,000 recipients, one line at 80/s: ${pacing.achievedPerSecond.toFixed(1)}/s (${pacing.ratio.toFixed(3)} of the rate), busiest second ${pacing.busiestSecond}`);
    expect(pacing.busiestSecond).toBeLessThanOrEqual(80);
    // The 0.95 target is measured by `npm run bench`; here a floor that still catches a crawling campaign
    // without failing CI when the machine is busy.
    expect(pacing.ratio).toBeGreaterThanOrEqual(0.75);

    // Each recipient's own parameters.
    const [seventh] = await js.sim.messages({ to: phones[7] });
    expect(seventh.body).toMatchObject({
      type: 'template',
      template: { name: 'spring_sale', language: { code: 'en_US' }, components: [{ type: 'body', parameters: [{ type: 'text', text: 'Customer 7' }] }] },
    });
    // The provider's statuses flow into the progress.
    const read = await waitForCampaign(js.owner, res.body.campaignId, (c) => c.progress.read === 1000, 'every message to be read', 30_000);
    expect(read.progress).toMatchObject({ total: 1000, queued: 0, sent: 0, delivered: 0, read: 1000 });
  }, 90_000);

  it('runs campaigns on two lines in parallel, each at its own line rate', async () => {
    await js.sim.configure({ rateLimitPerSecond: 80, autoStatuses: ['sent'] });
    const [a, b] = [await addLine(js, js.owner, 80), await addLine(js, js.owner, 40)];
    const [phonesA, phonesB] = [newPhones(400), newPhones(200)];
    const [idA, idB] = await Promise.all([
      startCampaign({ templateName: 'spring_sale', phoneNumberId: a.phoneNumberId, recipients: phonesA }),
      startCampaign({ templateName: 'spring_sale', phoneNumberId: b.phoneNumberId, recipients: phonesB }),
    ]);
    await Promise.all([
      waitForCampaign(js.owner, idA, (c) => c.status === 'completed', 'the campaign on line A'),
      waitForCampaign(js.owner, idB, (c) => c.status === 'completed', 'the campaign on line B'),
    ]);
    expect(await deliveryGaps(js, phonesA, a.phoneNumberId)).toEqual({ missing: [], duplicated: [] });
    expect(await deliveryGaps(js, phonesB, b.phoneNumberId)).toEqual({ missing: [], duplicated: [] });
    expect(await js.sim.rejections()).toEqual([]);
    const [pa, pb] = [await linePacing(js, a.phoneNumberId, 80), await linePacing(js, b.phoneNumberId, 40)];
    console.log(`two lines at once: ${pa.achievedPerSecond.toFixed(1)}/s of 80 (${pa.ratio.toFixed(3)}), ${pb.achievedPerSecond.toFixed(1)}/s of 40 (${pb.ratio.toFixed(3)})`);
    expect(pa.busiestSecond).toBeLessThanOrEqual(80);
    expect(pb.busiestSecond).toBeLessThanOrEqual(40);
    expect(pa.ratio).toBeGreaterThanOrEqual(0.75);
    expect(pb.ratio).toBeGreaterThanOrEqual(0.75);
    // In parallel: line B (5 s of work) was sending while line A (5 s) was.
    const [msgsA, msgsB] = [await js.sim.messages({ phoneNumberId: a.phoneNumberId }), await js.sim.messages({ phoneNumberId: b.phoneNumberId })];
    expect(Date.parse(msgsB[0].receivedAt)).toBeLessThan(Date.parse(msgsA[msgsA.length - 1].receivedAt) - 3000);
  }, 60_000);

  it('retries transient errors and rate-limit answers later: everybody still gets exactly one message', async () => {
    const line = await addLine(js, js.owner);
    const phones = newPhones(30);
    await js.sim.configure({
      failNext: [
        { to: phones[3], code: 131016 },
        { to: phones[4], httpStatus: 502, rawBody: '<html>Bad gateway</html>' },
        { to: phones[5], code: 130429 },
        { to: phones[5], code: 2 },
      ],
    });
    const id = await startCampaign({ templateName: 'spring_sale', phoneNumberId: line.phoneNumberId, recipients: phones });
    const done = await waitForCampaign(js.owner, id, (c) => c.status === 'completed', 'the campaign, retries included');
    expect(done.progress).toMatchObject({ total: 30, queued: 0, failed: 0 });
    expect(await deliveryGaps(js, phones, line.phoneNumberId)).toEqual({ missing: [], duplicated: [] });
    expect((await js.sim.rejections()).map((r) => r.code).sort()).toEqual([130429, 131016, 2, 502].sort());
  }, 30_000);
});

describe('campaign control', () => {
  it('pauses (nothing more goes out), resumes where it stopped, and every recipient still gets exactly one message', async () => {
    const line = await addLine(js, js.owner, 40);
    const phones = newPhones(240);
    const id = await startCampaign({ templateName: 'spring_sale', phoneNumberId: line.phoneNumberId, recipients: phones });
    await eventually(async () => (await sentCount(line.phoneNumberId)) >= 40, 'the first sends');

    const paused = await js.owner.agent.post(`/api/campaigns/${id}/pause`);
    expect(paused.status).toBe(200);
    expect(paused.body.status).toBe('paused');
    await new Promise((r) => setTimeout(r, 700)); // sends already under way finish
    const atPause = await sentCount(line.phoneNumberId);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await sentCount(line.phoneNumberId)).toBe(atPause);
    expect(atPause).toBeLessThan(240);
    const whilePaused = await campaignOf(js.owner, id);
    expect(whilePaused.status).toBe('paused');
    expect(whilePaused.progress.queued).toBe(240 - atPause);
    // Pausing again changes nothing.
    expect((await js.owner.agent.post(`/api/campaigns/${id}/pause`)).body.status).toBe('paused');

    expect((await js.owner.agent.post(`/api/campaigns/${id}/resume`)).body.status).toBe('running');
    const done = await waitForCampaign(js.owner, id, (c) => c.status === 'completed', 'the resumed campaign to complete');
    expect(done.progress).toMatchObject({ total: 240, queued: 0, skipped: 0, failed: 0 });
    expect(await deliveryGaps(js, phones, line.phoneNumberId)).toEqual({ missing: [], duplicated: [] });
    // A finished campaign cannot be paused or resumed.
    expect((await js.owner.agent.post(`/api/campaigns/${id}/pause`)).status).toBe(409);
    expect((await js.owner.agent.post(`/api/campaigns/${id}/resume`)).status).toBe(409);
  }, 60_000);

  it('cancels: the rest are skipped, nothing more goes out, and it cannot be resumed', async () => {
    const line = await addLine(js, js.owner, 40);
    const phones = newPhones(200);
    const id = await startCampaign({ templateName: 'spring_sale', phoneNumberId: line.phoneNumberId, recipients: phones });
    await eventually(async () => (await sentCount(line.phoneNumberId)) >= 20, 'the first sends');

    const cancelled = await js.owner.agent.post(`/api/campaigns/${id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    const finished = await waitForCampaign(js.owner, id, (c) => c.finishedAt !== null && c.progress.queued === 0, 'the cancelled campaign to wind up');
    const sent = await sentCount(line.phoneNumberId);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await sentCount(line.phoneNumberId)).toBe(sent);
    expect(sent).toBeLessThan(200);
    expect(finished.status).toBe('cancelled');
    expect(finished.progress.skipped).toBe(200 - sent);
    expect(finished.progress.total - finished.progress.skipped).toBe(sent);
    expect((await js.owner.agent.post(`/api/campaigns/${id}/resume`)).status).toBe(409);
    expect((await js.owner.agent.post(`/api/campaigns/${id}/cancel`)).body.status).toBe('cancelled');
  }, 60_000);

  it('reports progress per recipient: queued, sent, delivered, read, failed, skipped', async () => {
    const [readA, readB, delivered, sentOnly, failedLater, refused, optedOut] = newPhones(7);
    const digits = (p: string) => p.replace(/\D/g, '');
    await js.sim.configure({
      recipients: { [digits(delivered)]: { autoStatuses: ['sent', 'delivered'] }, [digits(sentOnly)]: { autoStatuses: ['sent'] }, [digits(failedLater)]: { autoStatuses: ['sent'], failWith: 131026 } },
      failNext: [{ to: refused, code: 131026 }],
    });
    expect((await js.owner.agent.post('/api/opt-outs').send({ phone: optedOut, reason: 'asked by phone' })).status).toBe(201);
    const id = await startCampaign({ templateName: 'spring_sale', recipients: [readA, readB, delivered, sentOnly, failedLater, refused, optedOut, readA] });
    const done = await waitForCampaign(
      js.owner,
      id,
      (c) => c.status === 'completed' && c.progress.read === 2 && c.progress.delivered === 1 && c.progress.failed === 2,
      'every status to arrive',
    );
    expect(done.recipientCount).toBe(7);
    expect(done.progress).toEqual({ total: 7, queued: 0, sent: 1, delivered: 1, read: 2, failed: 2, skipped: 1, optedOut: 1 });
    expect((await js.owner.agent.get('/api/campaigns')).body.campaigns.find((c: { id: string }) => c.id === id).progress).toEqual(done.progress);
  }, 30_000);
});

describe('opt-outs', () => {
  it('skips contacts who wrote STOP or הסר, stopped marketing at Meta, or were opted out by the API; START opts back in', async () => {
    const [stop, hebrew, meta, api, stopThenStart, plain] = newPhones(6);
    const digits = (p: string) => p.replace(/\D/g, '');
    await js.sim.inbound({ from: digits(stop), phoneNumberId: js.line.phoneNumberId, text: ' Stop! ' });
    await js.sim.inbound({ from: digits(hebrew), phoneNumberId: js.line.phoneNumberId, text: 'הסר' });
    await js.sim.inbound({ from: digits(stopThenStart), phoneNumberId: js.line.phoneNumberId, text: 'unsubscribe' });
    await js.sim.event('user_preferences', {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: '15550001111', phone_number_id: js.line.phoneNumberId },
      contacts: [{ profile: { name: 'Meta user' }, wa_id: digits(meta) }],
      user_preferences: [{ wa_id: digits(meta), detail: 'User requested to stop marketing messages', category: 'marketing_messages', value: 'stop', timestamp: Math.floor(Date.now() / 1000) }],
    });
    expect((await js.owner.agent.post('/api/opt-outs').send({ phone: api })).status).toBe(201);
    const optedOut = async () => ((await js.owner.agent.get('/api/opt-outs?limit=200')).body.optOuts as Array<{ phone: string; source: string }>);
    const ours = new Set([stop, hebrew, meta, api, stopThenStart, plain]);
    const oursOptedOut = async () => (await optedOut()).filter((o) => ours.has(o.phone));
    await eventually(async () => ((await oursOptedOut()).length >= 5 ? true : undefined), 'five opt-outs');
    await js.sim.inbound({ from: digits(stopThenStart), phoneNumberId: js.line.phoneNumberId, text: 'START' });
    await eventually(async () => ((await optedOut()).some((o) => o.phone === stopThenStart) ? undefined : true), 'START to opt back in');
    expect(Object.fromEntries((await oursOptedOut()).map((o) => [o.phone, o.source]))).toEqual({
      [stop]: 'keyword',
      [hebrew]: 'keyword',
      [meta]: 'meta',
      [api]: 'api',
    });

    const id = await startCampaign({ templateName: 'spring_sale', recipients: [stop, hebrew, meta, api, stopThenStart, plain] });
    const done = await waitForCampaign(js.owner, id, (c) => c.status === 'completed', 'the campaign');
    expect(done.progress).toMatchObject({ total: 6, skipped: 4, optedOut: 4, queued: 0 });
    const templatesTo = async (p: string) => (await js.sim.messages({ to: p })).filter((m) => m.type === 'template').length;
    expect(await Promise.all([stop, hebrew, meta, api, stopThenStart, plain].map(templatesTo))).toEqual([0, 0, 0, 0, 1, 1]);

    // Back in through the API; unknown contacts are a 404.
    expect((await js.owner.agent.delete(`/api/opt-outs/${encodeURIComponent(api)}`)).status).toBe(200);
    expect((await js.owner.agent.delete(`/api/opt-outs/${encodeURIComponent(api)}`)).status).toBe(404);
  }, 30_000);

  it('listens for the keywords the tenant configures', async () => {
    const saved = await js.owner.agent.put('/api/settings/opt-out').send({ stopKeywords: ['stop', 'basta', 'Basta!'], startKeywords: ['yalla'] });
    expect(saved.status).toBe(200);
    expect(saved.body).toEqual({ stopKeywords: ['STOP', 'BASTA'], startKeywords: ['YALLA'] });
    expect((await js.owner.agent.get('/api/settings/opt-out')).body).toEqual(saved.body);
    const [phone] = newPhones(1);
    await js.sim.inbound({ from: phone.slice(1), phoneNumberId: js.line.phoneNumberId, text: 'basta' });
    const has = async () => ((await js.owner.agent.get('/api/opt-outs?limit=200')).body.optOuts as Array<{ phone: string }>).some((o) => o.phone === phone);
    await eventually(async () => ((await has()) ? true : undefined), 'the custom keyword to opt out');
    await js.sim.inbound({ from: phone.slice(1), phoneNumberId: js.line.phoneNumberId, text: 'YALLA' });
    await eventually(async () => ((await has()) ? undefined : true), 'the custom keyword to opt back in');
    // "הסר" is no longer one of them.
    await js.owner.agent.put('/api/settings/opt-out').send({ stopKeywords: ['STOP', 'UNSUBSCRIBE', 'הסר'], startKeywords: ['START'] });
  });
});

describe('POST /api/templates/bulk-send', () => {
  it('takes the line from phoneNumberId, else the template group\'s preferred line, else the primary line', async () => {
    const other = await addLine(js, js.owner);
    const conn = js.stack.orm.em.getConnection();
    const templateId = randomUUID();
    const groupId = randomUUID();
    await conn.execute(`insert into templates (id, tenant_id, waba_id, name, language, category, status) values (?, ?, '2000001', 'grouped_offer', 'he', 'MARKETING', 'APPROVED')`, [
      templateId,
      js.owner.user.tenantId,
    ]);
    await conn.execute(`insert into template_groups (id, tenant_id, name, preferred_line_id) values (?, ?, 'offers', ?)`, [groupId, js.owner.user.tenantId, other.id]);
    await conn.execute(`insert into template_group_members (group_id, position, template_id) values (?, 0, ?)`, [groupId, templateId]);

    const [p1, p2, p3] = newPhones(3);
    const byGroup = await bulkSend({ templateGroupId: groupId, recipients: [p1] });
    expect(byGroup.status).toBe(202);
    expect(byGroup.body.phoneNumberId).toBe(other.phoneNumberId);
    const explicit = await bulkSend({ templateGroupId: groupId, phoneNumberId: js.line.phoneNumberId, recipients: [p2] });
    expect(explicit.body.phoneNumberId).toBe(js.line.phoneNumberId);
    const primary = await bulkSend({ templateName: 'spring_sale', recipients: [p3] });
    expect(primary.body.phoneNumberId).toBe(js.line.phoneNumberId);

    for (const res of [byGroup, explicit, primary]) await waitForCampaign(js.owner, res.body.campaignId, (c) => c.status === 'completed', 'each campaign');
    expect((await js.sim.messages({ to: p1 })).map((m) => [m.phoneNumberId, (m.body as { template: { name: string } }).template.name])).toEqual([[other.phoneNumberId, 'grouped_offer']]);
    expect((await js.sim.messages({ to: p3 })).map((m) => m.phoneNumberId)).toEqual([js.line.phoneNumberId]);
  }, 30_000);

  it('answers the same campaign to a repeated Idempotency-Key, and refuses bad input naming the field', async () => {
    const phones = newPhones(2);
    const key = randomUUID();
    const first = await bulkSend({ templateName: 'spring_sale', recipients: phones }, { 'Idempotency-Key': key });
    const again = await bulkSend({ templateName: 'spring_sale', recipients: phones }, { 'Idempotency-Key': key });
    expect(again.status).toBe(202);
    expect(again.body.campaignId).toBe(first.body.campaignId);
    await waitForCampaign(js.owner, first.body.campaignId, (c) => c.status === 'completed', 'the campaign');
    expect(await deliveryGaps(js, phones)).toEqual({ missing: [], duplicated: [] });

    const badPhone = await bulkSend({ templateName: 'spring_sale', recipients: [phones[0], 'call me'] });
    expect(badPhone.status).toBe(400);
    expect(badPhone.body.error).toMatch(/recipients\.1/);
    const noTemplate = await bulkSend({ recipients: phones });
    expect(noTemplate.status).toBe(400);
    expect(noTemplate.body.error).toMatch(/templateName/);
    expect((await bulkSend({ templateName: 'x', phoneNumberId: '123', recipients: phones })).status).toBe(404);
    expect((await js.stack.http().post('/api/templates/bulk-send').send({ templateName: 'x', recipients: phones })).status).toBe(401);
  });

  it('keeps campaigns to their tenant: another tenant gets 404 and cannot use the line', async () => {
    const id = await startCampaign({ templateName: 'spring_sale', recipients: newPhones(1) });
    await waitForCampaign(js.owner, id, (c) => c.status === 'completed', 'the campaign');
    const outsider = await signedInAccount(js.stack);
    await expectTenantIsolation({
      outsider,
      routes: [
        { method: 'get', path: `/api/campaigns/${id}` },
        { method: 'post', path: `/api/campaigns/${id}/pause` },
        { method: 'post', path: `/api/campaigns/${id}/resume` },
        { method: 'post', path: `/api/campaigns/${id}/cancel` },
        { method: 'post', path: '/api/templates/bulk-send', body: { templateName: 'x', phoneNumberId: js.line.phoneNumberId, recipients: ['+972500000001'] } },
      ],
      stillThere: async () => (await campaignOf(js.owner, id)).status === 'completed',
    });
    expect((await outsider.agent.get('/api/campaigns')).body).toEqual({ campaigns: [], total: 0 });
  });
});
