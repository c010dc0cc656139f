import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, Worker, type WorkflowBundle } from '@temporalio/worker';
import { openJourneyStack, eventually, type JourneyStack } from '../support/journey-stack';
import { apiTokenFor } from '../support/accounts';
import { questionLoop } from '../support/flows';
import { searchAttributes as sa } from '../../core/temporal/search-attributes';
import { journeyWorkflowId } from '../../core/temporal/workflow-ids';
import { workflowsPath } from '../../workers/worker';

/**
 * Journeys run for days, so a worker with new workflow code replays histories written by the old one. The
 * fixtures are histories recorded before the journey's history was made leaner (test/fixtures/journey-histories:
 * an outbound trigger with its template, a question answered wrongly then rightly, a condition and the end; an
 * inbound keyword starting a loop of two questions; a flow queued behind a running one with a reply timeout).
 */

type History = temporal.api.history.v1.IHistory;
const History = temporal.api.history.v1.History;
const EventType = temporal.api.enums.v1.EventType;

const fixtures = path.join(__dirname, '..', 'fixtures', 'journey-histories');
/** Histories recorded after the lean-history patch and before sends ran as local activities. */
const leanFixtures = path.join(fixtures, 'lean-history');
const loadFixture = (file: string, dir = fixtures): History => History.fromObject(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')));
const fixturesIn = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => ({ workflowId: f, history: loadFixture(f, dir) }));

const activitiesIn = (events: History['events']) =>
  events!.flatMap((e) => (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED ? [e.activityTaskScheduledEventAttributes!.activityType!.name!] : []));
/** Local activities leave a marker whose `data` detail names the activity type. */
const localActivitiesIn = (events: History['events']) =>
  events!.flatMap((e) => {
    const marker = e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED ? e.markerRecordedEventAttributes! : undefined;
    const data = marker?.markerName === 'core_local_activity' ? marker.details?.data?.payloads?.[0]?.data : undefined;
    return data ? [(JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type: string }).activity_type] : [];
  });

let bundle: WorkflowBundle;
let js: JourneyStack;
let token: string;

beforeAll(async () => {
  bundle = await bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } });
  js = await openJourneyStack();
  token = await apiTokenFor(js.stack, js.owner.user);
}, 120_000);
afterAll(async () => js?.close());

async function replay(histories: Array<{ workflowId: string; history: History }>): Promise<string[]> {
  const failures: string[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, histories)) {
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  return failures;
}

describe('journey histories', () => {
  it('replays histories recorded before the lean-history patch with the current workflow code', async () => {
    const histories = fixturesIn(fixtures);
    expect(histories.length).toBeGreaterThanOrEqual(3);
    // Each fixture reaches the journey's search attributes, its records and its flow loads: the old commands.
    for (const { history } of histories) expect(activitiesIn(history.events)).toContain('recordJourney');
    expect(await replay(histories)).toEqual([]);
  });

  it('replays histories whose sends ran as activities, recorded before sends ran as local activities', async () => {
    const histories = fixturesIn(leanFixtures);
    expect(histories.length).toBeGreaterThanOrEqual(2);
    for (const { history } of histories) {
      expect(activitiesIn(history.events)).toContain('sendMessage');
      expect(localActivitiesIn(history.events)).not.toContain('sendMessage');
    }
    expect(await replay(histories)).toEqual([]);
  });

  async function publishedFlow(graph: object): Promise<string> {
    const created = await js.owner.agent.post('/api/flows').send({ name: 'Loop', graph });
    expect((await js.owner.agent.post(`/api/flows/${created.body.id}/versions`)).status).toBe(201);
    expect((await js.owner.agent.put(`/api/flows/${created.body.id}`).send({ status: 'active' })).status).toBe(200);
    return created.body.id;
  }

  let seq = 0;
  const newPhone = () => `97258${String(Date.now() % 1_000_000).padStart(6, '0')}${seq++}`;
  const handleOf = (contact: string) =>
    js.stack.temporal.client.workflow.getHandle(journeyWorkflowId({ tenantId: js.owner.user.tenantId, channel: 'whatsapp', lineId: js.line.id, contact }));
  const messagesTo = async (to: string, n: number) => eventually(async () => ((await js.sim.messages({ to })).length >= n ? true : undefined), `${n} messages to ${to}`);

  /** The history once the journey waits again with nothing in flight: its record written, its last task done. */
  async function settledHistory(contact: string, node: string): Promise<History> {
    await eventually(async () => {
      const rows = await js.stack.orm.em.getConnection().execute(`select 1 from conversations where contact = ? and current_node = ?`, [contact, node]);
      return rows.length > 0;
    }, `the conversation of ${contact} at ${node}`);
    return eventually(async () => {
      const history = await handleOf(contact).fetchHistory();
      const last = history.events!.at(-1)!;
      const busy = last.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED || last.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED;
      const open = (await handleOf(contact).describe()).raw.pendingActivities?.length ?? 0;
      return !busy && open === 0 ? History.fromObject(history) : undefined;
    }, `the journey of ${contact} to settle`);
  }

  it('costs an outbound start at most 12 history events up to its template, and a reply at most 7, and replays', async () => {
    const flowId = await publishedFlow(questionLoop({ id: 'start', type: 'trigger_outbound', data: {} }));
    const phone = newPhone();
    const res = await js.stack
      .http()
      .post('/api/webhook/outbound')
      .set('Authorization', `Bearer ${token}`)
      .send({ phone, flowId, templateName: 'hello_utility', data: { customerName: 'Dana', sourceRef: `crm-${phone}`, campaignId: 'lean' } });
    expect(res.status).toBe(200);
    await messagesTo(phone, 1);
    const started = await settledHistory(phone, 'start');
    // Before: 25 events, with loadFlow and recordJourney as activities of their own and upserts of what the
    // start had set or nothing had changed. Now the patches' markers and TemporalChangeVersion upserts are all
    // the first task adds to the send and the record (local: a marker each); the source and campaign came with
    // the start.
    expect(activitiesIn(started.events)).toEqual([]);
    expect(localActivitiesIn(started.events)).toContain('sendMessage');
    // With the send a remote activity: 15 (its scheduled, started and completed events, and a workflow task).
    expect(started.events!.length).toBeLessThanOrEqual(12);

    await js.sim.inbound({ from: phone, phoneNumberId: js.line.phoneNumberId, text: 'hi', name: 'Dana' });
    await messagesTo(phone, 2);
    const afterFirst = await settledHistory(phone, 'ask1');
    await js.sim.inbound({ from: phone, phoneNumberId: js.line.phoneNumberId, text: 'fine', name: 'Dana' });
    await messagesTo(phone, 3);
    const afterSecond = await settledHistory(phone, 'ask2');
    const reply = afterSecond.events!.slice(afterFirst.events!.length);
    // Before: 18 events, two upserts of the same current node and a recordJourney activity.
    expect(activitiesIn(reply)).toEqual([]);
    expect(localActivitiesIn(reply)).toEqual(['sendMessage', 'recordJourney']);
    // With the send a remote activity: 12.
    expect(reply.length).toBeLessThanOrEqual(7);
    const attributes = (await handleOf(phone).describe()).typedSearchAttributes;
    const shown = [sa.FlowId, sa.FlowVersion, sa.CurrentNode, sa.JourneyStatus, sa.SourceRef, sa.CampaignId].map((k) => attributes.get(k));
    expect(shown).toEqual([flowId, '1', 'ask2', 'waiting', `crm-${phone}`, 'lean']);
    expect(await replay([{ workflowId: 'outbound', history: afterSecond }])).toEqual([]);
  });

  it('starts a flow from an inbound keyword without loading the flow again', async () => {
    await publishedFlow(questionLoop({ id: 'start', type: 'trigger_inbound', data: { match: 'exact', keywords: ['lean-loop'] } }));
    const phone = newPhone();
    await js.sim.inbound({ from: phone, phoneNumberId: js.line.phoneNumberId, text: 'lean-loop', name: 'Eli' });
    await messagesTo(phone, 1);
    const history = await settledHistory(phone, 'ask1');
    expect(activitiesIn(history.events)).toEqual([]);
    expect(localActivitiesIn(history.events)).toContain('sendMessage');
    expect(await replay([{ workflowId: 'inbound', history }])).toEqual([]);
  });

  it('sends as an activity, once, when the line is backed up beyond what a workflow task may wait', async () => {
    await publishedFlow(questionLoop({ id: 'start', type: 'trigger_inbound', data: { match: 'exact', keywords: ['busy-loop'] } }));
    const phone = newPhone();
    // The line's next slot 3 s away, as after a burst of sends: more than LOCAL_SEND_MAX_LINE_WAIT_MS.
    await js.stack.orm.em.getConnection().execute(
      `insert into line_rate_buckets (line_id, next_slot_at) values (?, now() + interval '3 seconds')
       on conflict (line_id) do update set next_slot_at = excluded.next_slot_at`,
      [js.line.id],
    );
    await js.sim.inbound({ from: phone, phoneNumberId: js.line.phoneNumberId, text: 'busy-loop', name: 'Gal' });
    await messagesTo(phone, 1);
    const history = await settledHistory(phone, 'ask1');
    // The local attempt was refused before it took a slot; the activity waited for one and sent.
    expect(localActivitiesIn(history.events)).toContain('sendMessage');
    expect(activitiesIn(history.events)).toEqual(['sendMessage']);
    expect(await js.sim.messages({ to: phone })).toHaveLength(1);
    const rows = await js.stack.orm.em.getConnection().execute(
      `select m.status, m.attempts from messages m join conversations c on c.id = m.conversation_id where c.contact = ? and m.direction = 'out'`,
      [phone],
    );
    expect(rows).toEqual([{ status: expect.stringMatching(/^(sent|delivered|read)$/), attempts: 1 }]);
    expect(await replay([{ workflowId: 'busy', history }])).toEqual([]);
  });
});
