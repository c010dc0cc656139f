import { apiCredentialsFor, uniqueIp } from '../support/accounts';
import { deliveryGaps, newPhones, waitForCampaign } from '../support/campaigns';
import { eventually, openJourneyStack, type JourneyStack } from '../support/journey-stack';
import { startStackWorker, type WorkerProcess } from '../support/worker-process';

/**
 * A worker killed with SIGKILL in the middle of a campaign, and another started: Temporal runs the page
 * activity again on the new worker once the dead one stops heartbeating; sends the dead worker had made
 * settle by the provider's status webhooks (handled by this process's dispatcher, which stays up).
 */
let js: JourneyStack;
const workers: WorkerProcess[] = [];
let token: string;

beforeAll(async () => {
  js = await openJourneyStack({ worker: false });
  // Shorter than production, so the test does not wait long for the dead worker to be declared dead.
  js.stack.deps.campaignTuning = { heartbeatTimeoutMs: 3_000, inDoubtGraceMs: 10_000 };
  const { clientId, apiKey } = await apiCredentialsFor(js.stack, js.owner.user);
  token = (await js.stack.http().post('/api/auth/api-token').set('X-Forwarded-For', uniqueIp()).send({ clientId, apiKey })).body.accessToken;
}, 60_000);
afterAll(async () => {
  for (const w of workers) await w.stop();
  await js?.close();
});

describe('a worker killed mid-campaign', () => {
  it('loses no message and duplicates none: a restarted worker goes on and everybody gets exactly one', async () => {
    await js.sim.configure({ rateLimitPerSecond: 80 });
    workers.push(await startStackWorker(js));
    const phones = newPhones(600);
    const res = await js.stack.http().post('/api/templates/bulk-send').set('Authorization', `Bearer ${token}`).send({ templateName: 'spring_sale', recipients: phones });
    expect(res.status).toBe(202);

    const atKill = await eventually(async () => {
      const n = (await js.sim.messages({ phoneNumberId: js.line.phoneNumberId })).length;
      return n >= 150 ? n : undefined;
    }, 'the campaign to be well under way');
    await workers[0].kill();
    const sentByTheDead = (await js.sim.messages({ phoneNumberId: js.line.phoneNumberId })).length;
    expect(sentByTheDead).toBeLessThan(600);
    expect(sentByTheDead).toBeGreaterThanOrEqual(atKill);
    // It died holding recipients: claimed, some of them with their send under way.
    const [{ held }] = await js.stack.orm.em
      .getConnection()
      .execute<Array<{ held: string }>>(`select count(*) as held from campaign_recipients where campaign_id = ? and state = 'sending'`, [res.body.campaignId]);
    expect(Number(held)).toBeGreaterThan(0);

    workers.push(await startStackWorker(js));
    const done = await waitForCampaign(js.owner, res.body.campaignId, (c) => c.status === 'completed', 'the campaign to complete on the new worker', 60_000);
    expect(done.progress).toMatchObject({ total: 600, queued: 0, failed: 0, skipped: 0 });
    expect(await deliveryGaps(js, phones)).toEqual({ missing: [], duplicated: [] });
  }, 120_000);
});
