import type { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { percentile, round } from './stats';

/**
 * Where a journey's time goes, from its Temporal history: for workflow tasks and for each activity type,
 * the wait for a worker to take the task (scheduled → started: the worker's pollers and slots, or a
 * backlog) and the work itself (started → completed). Local activities run inside a workflow task, whose
 * run includes them: only how many each journey ran is counted (their markers carry the workflow's own
 * clock, not when they ran). Read from a sample of journeys after a run.
 */

export interface Timeline {
  journeys: number;
  /** From the journey's start to its last completed activity, ms. */
  totalMs: { p50: number; p90: number };
  workflowTask: {
    /** The first task of a run goes to the task queue shared by all workers; later ones to the worker's sticky queue. */
    firstQueueMs: { p50: number; p90: number };
    laterQueueMs: { p50: number; p90: number };
    runMs: { p50: number; p90: number };
    perJourney: number;
  };
  activities: Record<string, { queueMs: { p50: number; p90: number }; runMs: { p50: number; p90: number } }>;
  /** Local activities per journey, by type. */
  localActivities: Record<string, number>;
}

const p = (values: number[]) => ({ p50: round(percentile(values, 50), 0), p90: round(percentile(values, 90), 0) });

export async function journeyTimeline(client: Client, workflowIds: string[]): Promise<Timeline> {
  const firstQueue: number[] = [];
  const laterQueue: number[] = [];
  const wftRun: number[] = [];
  const totals: number[] = [];
  const acts = new Map<string, { queue: number[]; run: number[] }>();
  const locals = new Map<string, number>();
  let tasks = 0;
  let journeys = 0;
  for (const id of workflowIds) {
    const history = await client.workflow.getHandle(id).fetchHistory();
    const events = history.events ?? [];
    const at = new Map<number, number>();
    const activityType = new Map<number, string>();
    let first: number | undefined;
    let wftSeen = 0;
    let lastActivityDone: number | undefined;
    for (const e of events) {
      const eventId = Number(e.eventId);
      const time = tsToMs(e.eventTime);
      at.set(eventId, time);
      first ??= time;
      if (e.workflowTaskStartedEventAttributes) {
        (wftSeen++ === 0 ? firstQueue : laterQueue).push(time - at.get(Number(e.workflowTaskStartedEventAttributes.scheduledEventId))!);
      }
      if (e.workflowTaskCompletedEventAttributes) {
        wftRun.push(time - at.get(Number(e.workflowTaskCompletedEventAttributes.startedEventId))!);
        tasks++;
      }
      if (e.activityTaskScheduledEventAttributes) activityType.set(eventId, e.activityTaskScheduledEventAttributes.activityType?.name ?? '?');
      const started = e.activityTaskStartedEventAttributes;
      if (started) {
        const name = activityType.get(Number(started.scheduledEventId)) ?? '?';
        const entry = acts.get(name) ?? { queue: [], run: [] };
        entry.queue.push(time - at.get(Number(started.scheduledEventId))!);
        acts.set(name, entry);
      }
      const local = localActivityOf(e.markerRecordedEventAttributes);
      if (local) {
        locals.set(local, (locals.get(local) ?? 0) + 1);
        lastActivityDone = time;
      }
      const completed = e.activityTaskCompletedEventAttributes;
      if (completed) {
        const name = activityType.get(Number(completed.scheduledEventId)) ?? '?';
        acts.get(name)?.run.push(time - at.get(Number(completed.startedEventId))!);
        lastActivityDone = time;
      }
    }
    if (first !== undefined && lastActivityDone !== undefined) totals.push(lastActivityDone - first);
    journeys++;
  }
  return {
    journeys,
    totalMs: p(totals),
    workflowTask: { firstQueueMs: p(firstQueue), laterQueueMs: p(laterQueue), runMs: p(wftRun), perJourney: round(tasks / Math.max(journeys, 1), 1) },
    activities: Object.fromEntries([...acts].map(([name, v]) => [name, { queueMs: p(v.queue), runMs: p(v.run) }])),
    localActivities: Object.fromEntries([...locals].map(([name, n]) => [name, round(n / Math.max(journeys, 1), 1)])),
  };
}

type Marker = { markerName?: string | null; details?: Record<string, { payloads?: Array<{ data?: Uint8Array | null }> | null }> | null } | null | undefined;

/** The type of the local activity whose marker this is (its `data` detail is JSON that names it). */
function localActivityOf(marker: Marker): string | undefined {
  const data = marker?.markerName === 'core_local_activity' ? marker.details?.data?.payloads?.[0]?.data : undefined;
  return data ? (JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type: string }).activity_type : undefined;
}

/** One line: "start → last activity p50 …; workflow tasks: wait … run …; callHttp: wait … run …; local activities …". */
export function timelineText(t: Timeline): string {
  const pair = (x: { p50: number; p90: number }) => `${x.p50}/${x.p90}`;
  const acts = Object.entries(t.activities).map(([name, a]) => `${name} wait ${pair(a.queueMs)} run ${pair(a.runMs)}`);
  const locals = Object.entries(t.localActivities).map(([name, n]) => `${name} ×${n}`);
  if (locals.length) acts.push(`local activities inside the tasks: ${locals.join(', ')}`);
  return (
    `from start to last activity ${pair(t.totalMs)} ms; ${t.workflowTask.perJourney} workflow tasks each: the first waited ` +
    `${pair(t.workflowTask.firstQueueMs)} for a worker, ` +
    `${Number.isNaN(t.workflowTask.laterQueueMs.p50) ? '' : `later ones ${pair(t.workflowTask.laterQueueMs)}, `}each ran ${pair(t.workflowTask.runMs)}; ` +
    `${acts.join('; ')} (ms, p50/p90, over ${t.journeys} journeys)`
  );
}
