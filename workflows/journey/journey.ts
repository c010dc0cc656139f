import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setDefaultSignalHandler,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { FlowNode } from '../../core/flow/catalogue';
import type { JourneyActivities } from '../../core/journey/activities';
import { LINE_BUSY, LOCAL_SEND_MAX_LINE_WAIT_MS } from '../../core/journey/local-send';
import { isTemplateReference } from '../../core/journey/template-reference';
import type {
  AgentAction,
  FlowTrigger,
  InboundMessage,
  JourneyKey,
  JourneyState,
  JourneyStatus,
  LoadedFlow,
  OutboundMessage,
  OutboundSend,
  Variables,
} from '../../core/journey/types';
import { searchAttributes as sa } from '../../core/temporal/search-attributes';
import { agentSignal, cancelSignal, inboundSignal, stateQuery, triggerSignal } from './definitions';
import { findNode, nextNodeId, startNodeOf } from './graph';
import { handlers } from './nodes';
import type { NodeContext, Outcome } from './nodes/types';

const act = proxyActivities<JourneyActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});
/**
 * Reads and the inbox mirror run as local activities: in the worker, inside the workflow task, recorded as one
 * marker event instead of a scheduled, started and completed activity and another workflow task.
 */
const local = proxyLocalActivities<Pick<JourneyActivities, 'loadFlow' | 'matchInboundTrigger' | 'recordJourney'>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});
/**
 * Plain sends (core/journey/local-send.ts). Template sends by id or group stay activities: the fallback engine
 * may try several lines and wait for a late failure, too long for a workflow task.
 */
const localSend = proxyLocalActivities<Pick<JourneyActivities, 'sendMessage'>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});
const http = proxyActivities<Pick<JourneyActivities, 'callHttp'>>({
  startToCloseTimeout: '90 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumAttempts: 3 },
});

/** Nodes run back to back without waiting for the customer; beyond this the flow is looping. */
export const STEP_BUDGET = 200;
/** A journey with no flow running ends after this long without news; the next message starts a new run. */
const IDLE_MS = 24 * 3600 * 1000;
const REMEMBERED_IDS = 200;
const DEFAULT_MAX_HISTORY_EVENTS = 8000;
/**
 * Journeys that started before this patch keep their fuller history on replay: every search attribute
 * upserted whether it changed or not, and flows loaded and records written by (remote) activities.
 */
export const LEAN_HISTORY_PATCH = 'journey-lean-history';
/**
 * Journeys that started before this patch keep, on replay, their sends as (remote) activities and their
 * signal handlers' order of registration (which decided the order of signals that came in one activation).
 */
export const LOCAL_SEND_PATCH = 'journey-local-send-ordered-signals';
/** Nodes that decide and move on in the same workflow task: a search never sees the journey standing on one. */
const INSTANT_NODES = new Set(['trigger_inbound', 'trigger_outbound', 'trigger_api_lead', 'trigger_api', 'condition', 'set_variable', 'wait', 'handoff', 'end']);

type JourneyEvent =
  | { type: 'inbound'; message: InboundMessage }
  | { type: 'trigger'; trigger: FlowTrigger; dequeued?: boolean }
  | { type: 'agent'; action: AgentAction }
  | { type: 'cancel'; reason: string };

type Waiting =
  | { kind: 'reply'; until?: number; timeoutHandle?: string }
  | { kind: 'template_reply' }
  | { kind: 'timer'; until: number; handle: string }
  | { kind: 'agent' };

/** Everything the journey knows; carried into the next run by continueAsNew. */
export interface Carried {
  flow?: LoadedFlow;
  nodeId?: string;
  variables: Variables;
  memory: Record<string, Record<string, number>>;
  waiting?: Waiting;
  paused: boolean;
  queue: FlowTrigger[];
  events: JourneyEvent[];
  sendSeq: number;
  seen: string[];
  lastError?: string;
  history: JourneyState['history'];
  /** The running flow's trigger said where it came from; its messages carry it (delivery look-ups). */
  tags?: { sourceRef?: string; campaignId?: string };
}

export interface JourneyInput extends JourneyKey {
  carried?: Carried;
  /** Continue as new past this many history events (Temporal suggests it near 4,096 as well). */
  maxHistoryEvents?: number;
}

/**
 * One customer on one line. Signals bring customer messages, flow triggers and agent actions; they are
 * handled one at a time, in order, so a reply is never processed twice or out of turn. One flow runs at a
 * time; the flow version is pinned when it starts.
 */
export async function journey(input: JourneyInput): Promise<void> {
  const key: JourneyKey = { tenantId: input.tenantId, channel: input.channel, lineId: input.lineId, contact: input.contact };
  const s: Carried = input.carried ?? { variables: {}, memory: {}, paused: false, queue: [], events: [], sendSeq: 0, seen: [], history: [] };
  const info = workflowInfo();
  const sendKeyPrefix = `${info.workflowId}/${info.firstExecutionRunId}`;
  const maxHistoryEvents = input.maxHistoryEvents ?? DEFAULT_MAX_HISTORY_EVENTS;
  const lean = patched(LEAN_HISTORY_PATCH);
  /** Started on this version: sends as local activities, signals taken in the order they came. */
  const current = patched(LOCAL_SEND_PATCH);
  const flows = lean ? local : act;
  /** What the last recordJourney wrote, so that an unchanged record is not written again. */
  let recorded: string | undefined;

  const onInboundSignal = (message: InboundMessage) => void s.events.push({ type: 'inbound', message });
  const onTriggerSignal = (trigger: FlowTrigger) => void s.events.push({ type: 'trigger', trigger });
  const onAgentSignal = (action: AgentAction) => void s.events.push({ type: 'agent', action });
  const onCancelSignal = (reason: string) => void s.events.push({ type: 'cancel', reason });
  if (current) {
    // The first activation may bring several signals (a trigger and the customer's answer, when the journey's
    // first workflow task was retried). Each setHandler below dispatches the waiting signals of its own name,
    // which would take them out of order; a default handler takes them all at once, in the order they came.
    const byName = new Map<string, (arg: never) => void>([
      [inboundSignal.name, onInboundSignal],
      [triggerSignal.name, onTriggerSignal],
      [agentSignal.name, onAgentSignal],
      [cancelSignal.name, onCancelSignal],
    ]);
    setDefaultSignalHandler((name, ...args) => byName.get(name)?.(args[0] as never));
  }
  setHandler(inboundSignal, onInboundSignal);
  setHandler(triggerSignal, onTriggerSignal);
  setHandler(agentSignal, onAgentSignal);
  setHandler(cancelSignal, onCancelSignal);
  setHandler(stateQuery, () => view(s));

  const status = (): JourneyStatus => (!s.flow ? 'idle' : s.paused ? 'paused' : s.waiting ? 'waiting' : 'running');

  function remember(id: string): boolean {
    if (s.seen.includes(id)) return false;
    s.seen.push(id);
    if (s.seen.length > REMEMBERED_IDS) s.seen.shift();
    return true;
  }

  /** Each upsert is a history event: a lean journey upserts only the attributes whose value changes. */
  function upsert(pairs: Array<{ key: (typeof sa)[keyof typeof sa]; value: string | null }>): void {
    if (!lean) return upsertSearchAttributes(pairs);
    const current = workflowInfo().typedSearchAttributes;
    const changed = pairs.filter((p) => (current.get(p.key) ?? null) !== p.value);
    if (changed.length) upsertSearchAttributes(changed);
  }

  async function record(): Promise<void> {
    upsert([
      { key: sa.FlowId, value: s.flow?.flowId ?? null },
      { key: sa.FlowVersion, value: s.flow ? String(s.flow.version) : null },
      { key: sa.CurrentNode, value: s.nodeId ?? null },
      { key: sa.JourneyStatus, value: status() },
    ]);
    const input = { key, workflowId: info.workflowId, flowId: s.flow?.flowId, version: s.flow?.version, currentNode: s.nodeId, status: status() };
    if (!lean) return act.recordJourney(input);
    const fingerprint = JSON.stringify([input.flowId, input.version, input.currentNode, input.status]);
    if (fingerprint === recorded) return;
    await local.recordJourney(input);
    recorded = fingerprint;
  }

  async function sendMessage(send: OutboundSend): Promise<{ messageId: string }> {
    if (isTemplateReference(send.message) || !current) return act.sendMessage(send);
    try {
      return await localSend.sendMessage({ ...send, maxLineWaitMs: LOCAL_SEND_MAX_LINE_WAIT_MS });
    } catch (err) {
      // Same idempotency key: the activity finds the row the local attempt wrote, and sends it once.
      if (failureType(err) === LINE_BUSY) return act.sendMessage(send);
      throw err;
    }
  }

  function context(node: FlowNode): NodeContext<FlowNode> {
    const memory = (s.memory[node.id] ??= {});
    return {
      node,
      key,
      variables: s.variables,
      memory,
      send: async (message: OutboundMessage) => {
        const idempotencyKey = `${sendKeyPrefix}/${++s.sendSeq}`;
        const sent = await sendMessage({ key, idempotencyKey, nodeId: node.id, flowId: s.flow?.flowId, message, ...s.tags });
        return { messageId: sent.messageId };
      },
      connected: (handle) => !!s.flow && nextNodeId(s.flow, node.id, handle) !== undefined,
      callHttp: (req) => http.callHttp(req),
    };
  }

  async function finishFlow(outcome: JourneyStatus, reason?: string): Promise<void> {
    if (!s.flow) return;
    s.history.push({ flowId: s.flow.flowId, version: s.flow.version, outcome, at: Date.now(), reason });
    if (s.history.length > 20) s.history.shift();
    if (outcome === 'failed') s.lastError = reason;
    s.flow = undefined;
    s.nodeId = undefined;
    s.waiting = undefined;
    s.memory = {};
    await record();
    const queued = s.queue.shift();
    if (queued) s.events.unshift({ type: 'trigger', trigger: queued, dequeued: true });
  }

  async function go(handle: string): Promise<void> {
    const next = s.flow && s.nodeId ? nextNodeId(s.flow, s.nodeId, handle) : undefined;
    s.waiting = undefined;
    if (!next) return finishFlow('completed');
    s.nodeId = next;
  }

  async function apply(outcome: Outcome): Promise<void> {
    switch (outcome.kind) {
      case 'next':
        return go(outcome.handle);
      case 'wait_reply':
        s.waiting = {
          kind: 'reply',
          until: outcome.timeoutSeconds ? Date.now() + outcome.timeoutSeconds * 1000 : undefined,
          timeoutHandle: outcome.timeoutHandle,
        };
        return record();
      case 'wait_timer':
        s.waiting = { kind: 'timer', until: Date.now() + outcome.seconds * 1000, handle: outcome.handle };
        return record();
      case 'handoff':
        s.paused = true;
        s.waiting = { kind: 'agent' };
        return record();
      case 'goto_flow': {
        const from = s.flow!;
        const target = await loadFlow(outcome.flowId);
        if (!target) return;
        s.history.push({ flowId: from.flowId, version: from.version, outcome: 'completed', at: Date.now(), reason: `went to flow ${outcome.flowId}` });
        return enterFlow(target, undefined);
      }
      case 'end':
        return finishFlow('completed');
      case 'fail':
        return finishFlow('failed', outcome.reason);
    }
  }

  async function loadFlow(flowId: string, version?: number): Promise<LoadedFlow | undefined> {
    try {
      return await flows.loadFlow({ tenantId: key.tenantId, flowId, version });
    } catch (err) {
      const reason = `could not load flow ${flowId}: ${failureMessage(err)}`;
      s.lastError = reason;
      await finishFlow('failed', reason);
      return undefined;
    }
  }

  async function enterFlow(flow: LoadedFlow, startNodeType: string | undefined): Promise<void> {
    const start = startNodeOf(flow, startNodeType);
    s.flow = flow;
    s.nodeId = start?.id;
    s.waiting = undefined;
    s.memory = {};
    if (!start) await finishFlow('failed', 'the flow has no nodes');
  }

  async function startFlow(trigger: FlowTrigger): Promise<void> {
    // A trigger that brings its pinned version saves a load; versions are immutable, so it is the same graph.
    // Only in a lean run: an older run may have taken the same trigger on an older worker, which loaded it.
    const given = lean && trigger.flow?.flowId === trigger.flowId && trigger.flow.version === trigger.version ? trigger.flow : undefined;
    const flow = given ?? (await loadFlow(trigger.flowId, trigger.version));
    if (!flow) return;
    s.variables = { ...trigger.variables };
    s.tags = trigger.sourceRef || trigger.campaignId ? { sourceRef: trigger.sourceRef, campaignId: trigger.campaignId } : undefined;
    upsert([
      { key: sa.SourceRef, value: trigger.sourceRef ?? null },
      { key: sa.CampaignId, value: trigger.campaignId ?? null },
    ]);
    await enterFlow(flow, trigger.startNodeType);
    if (trigger.template && s.flow) {
      // Combined mode: an approved template opens the conversation; the reply continues the flow.
      try {
        await context(startNodeOf(flow, trigger.startNodeType)!).send({ type: 'template', ...trigger.template });
      } catch (err) {
        return finishFlow('failed', `the opening template could not be sent: ${failureMessage(err)}`);
      }
      s.waiting = { kind: 'template_reply' };
      await record();
    }
  }

  /** Runs nodes until the journey must wait for the customer, a timer or an agent. */
  async function advance(): Promise<void> {
    let steps = 0;
    while (s.flow && s.nodeId && !s.waiting && !s.paused) {
      const node = findNode(s.flow, s.nodeId);
      if (!node) return finishFlow('failed', `node "${s.nodeId}" does not exist in flow ${s.flow.flowId} v${s.flow.version}`);
      if (++steps > STEP_BUDGET) {
        return finishFlow('failed', `step budget exceeded: ${STEP_BUDGET} nodes ran without waiting, last at node "${node.id}" (a loop in the flow?)`);
      }
      if (!lean || !INSTANT_NODES.has(node.type)) upsert([{ key: sa.CurrentNode, value: node.id }]);
      try {
        const handler = handlers[node.type] as unknown as { enter(ctx: NodeContext<FlowNode>): Promise<Outcome> };
        await apply(await handler.enter(context(node)));
      } catch (err) {
        await finishFlow('failed', `node "${node.id}" (${node.type}) failed: ${failureMessage(err)}`);
      }
    }
  }

  async function onInbound(message: InboundMessage): Promise<void> {
    if (!remember(`m:${message.messageId}`)) return;
    s.variables.lastMessage = message.text ?? message.choiceId ?? '';
    if (message.customerName) s.variables.customerName ??= message.customerName;
    if (s.paused) return;
    if (!s.flow) {
      const match = await flows.matchInboundTrigger({ tenantId: key.tenantId, lineId: key.lineId, message });
      if (match) {
        const flow = lean && match.graph ? { flowId: match.flowId, version: match.version, graph: match.graph } : undefined;
        const triggerId = `inbound:${message.messageId}`;
        await startFlow({ triggerId, flowId: match.flowId, version: match.version, flow, startNodeType: 'trigger_inbound', variables: { ...s.variables }, policy: 'supersede' });
      }
      return;
    }
    if (s.waiting?.kind === 'template_reply') return go('next');
    if (s.waiting?.kind !== 'reply' || !s.nodeId) return;
    const node = findNode(s.flow, s.nodeId);
    const handler = node && (handlers[node.type] as unknown as { reply?(ctx: NodeContext<FlowNode>, m: InboundMessage): Promise<Outcome> });
    if (!node || !handler?.reply) return go('next');
    try {
      await apply(await handler.reply(context(node), message));
    } catch (err) {
      await finishFlow('failed', `node "${node.id}" (${node.type}) failed on a reply: ${failureMessage(err)}`);
    }
  }

  async function onTrigger(trigger: FlowTrigger, dequeued = false): Promise<void> {
    if (!dequeued && !remember(`t:${trigger.triggerId}`)) return;
    if (s.flow || s.paused) {
      if (trigger.policy === 'skip') return;
      if (trigger.policy === 'queue' || s.paused) return void s.queue.push(trigger);
      await finishFlow('superseded', `superseded by a trigger of flow ${trigger.flowId}`);
      s.queue.length = 0;
    }
    await startFlow(trigger);
  }

  async function onAgent(action: AgentAction): Promise<void> {
    if (action.action === 'claim') {
      s.paused = true;
      return record();
    }
    const wasHandoff = s.waiting?.kind === 'agent';
    s.paused = false;
    if (action.action === 'close') {
      s.waiting = undefined;
      await finishFlow('completed', `closed by agent ${action.userId}`);
      return record();
    }
    if (wasHandoff) await go('next');
    else await record();
  }

  for (;;) {
    await advance();
    if (s.events.length === 0 && (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > maxHistoryEvents)) {
      await continueAsNew<typeof journey>({ ...key, carried: s, maxHistoryEvents });
    }
    const until = s.waiting && 'until' in s.waiting ? s.waiting.until : !s.flow && !s.paused ? Date.now() + IDLE_MS : undefined;
    const arrived = until === undefined ? (await condition(() => s.events.length > 0), true) : await condition(() => s.events.length > 0, Math.max(1, until - Date.now()));
    if (!arrived) {
      if (s.waiting?.kind === 'timer') await go(s.waiting.handle);
      else if (s.waiting?.kind === 'reply') await go(s.waiting.timeoutHandle ?? 'timeout');
      else if (!s.flow && s.events.length === 0) return;
      continue;
    }
    const event = s.events.shift()!;
    if (event.type === 'inbound') await onInbound(event.message);
    else if (event.type === 'trigger') await onTrigger(event.trigger, event.dequeued);
    else if (event.type === 'agent') await onAgent(event.action);
    else {
      s.paused = false;
      await finishFlow('completed', `cancelled: ${event.reason}`);
    }
  }
}

/** A local activity's failure reaches the workflow as its ApplicationFailure; a remote one's as that failure's cause. */
function failureType(err: unknown): string | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
}

function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  if (err instanceof ApplicationFailure) return err.message;
  return err instanceof Error ? err.message : String(err);
}

function view(s: Carried): JourneyState {
  return {
    flowId: s.flow?.flowId,
    version: s.flow?.version,
    currentNode: s.nodeId,
    status: !s.flow ? 'idle' : s.paused ? 'paused' : s.waiting ? 'waiting' : 'running',
    waitingFor: s.waiting ? (s.waiting.kind === 'template_reply' ? 'reply' : s.waiting.kind) : undefined,
    waitUntil: s.waiting && 'until' in s.waiting ? s.waiting.until : undefined,
    variables: { ...s.variables },
    paused: s.paused,
    queued: s.queue.length,
    lastError: s.lastError,
    history: [...s.history],
  };
}
