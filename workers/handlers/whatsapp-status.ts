import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { WorkflowIdReusePolicy, WorkflowNotFoundError } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Logger } from 'pino';
import { adoptUnknownStatus } from '../../core/campaigns/unsettled';
import { Coalescer } from '../../core/db/coalescer';
import { sqlOf } from '../../core/db/sql';
import { byReferenceSql } from '../../core/delivery/monitor';
import {
  defaultDeliverySettings,
  deliveryStatusSignalName,
  fallbackMayHelp,
  followDeliveryWorkflowId,
  type DeliveryStatusEvent,
  type FollowDeliveryInput,
} from '../../core/delivery/types';
import type { InboxRow } from '../../core/inbox/webhook-inbox';
import { contactSearchAttributes } from '../../core/journey/signal';
import type { JourneyKey } from '../../core/journey/types';
import type { TemporalHandle } from '../../core/temporal/connect';
import type { WhatsAppStatusEvent } from '../../activities/channels/whatsapp';

const rank: Record<string, number> = { queued: 0, sent: 1, delivered: 2, read: 3, failed: 4 };
/** How long to wait for the send that a status refers to before deciding the message is not ours. */
const MAX_ATTEMPTS_FOR_UNKNOWN = 6;

interface Applied {
  id: string;
  tenant_id: string;
  delivery_round: number;
  previous_status: string;
  /** A delivery workflow follows the message (a manual retry, a fallback send after a late failure). */
  followed: boolean;
  /** A template send by id or group: a late definitive failure has a fallback to run. */
  by_reference: boolean;
  channel: string;
  line_id: string;
  contact: string;
}

export interface StatusHandlerDeps {
  orm: MikroORM;
  temporal: TemporalHandle;
  /** How long a message's delivery workflow waits for a final status (DELIVERY_FOLLOW_HOURS). */
  delivery?: { followForMs: number };
}

/**
 * A delivery status: moves the message forward (sent → delivered → read, or failed), never backward,
 * since Meta does not guarantee order. A status can overtake the send call's answer, so a status for a
 * wamid we have not stored yet is retried for a while.
 *
 * Then, when the message needs it, it tells the message's delivery workflow (workflows/delivery/follow-delivery.ts):
 * a late definitive `failed` of a template send by id or group starts one (the fallback engine's next
 * candidate), and the final statuses of a message a workflow follows are passed on. Statuses that change
 * nothing (a `read` after `delivered`) are not.
 */
/** One status applied to its message row. */
interface StatusWrite {
  event: WhatsAppStatusEvent;
  at: Date;
  errorTitle: string | null;
}

function statusUpdate(w: StatusWrite): { sql: string; params: unknown[] } {
  const column = { sent: 'sent_at', delivered: 'delivered_at', read: 'read_at', failed: 'failed_at' }[w.event.status];
  return {
    sql: `with prev as (select id, status, conversation_id from messages where provider_message_id = ? for update)
         update messages m set
           status = case when ? > (case m.status when 'queued' then 0 when 'sent' then 1 when 'delivered' then 2 when 'read' then 3 when 'failed' then 4 else 0 end)
                         then ? else m.status end,
           ${column} = coalesce(m.${column}, ?),
           error_code = coalesce(?, m.error_code), error_title = coalesce(?, m.error_title), updated_at = now()
         from prev join conversations c on c.id = prev.conversation_id
         where m.id = prev.id
         returning m.id, m.tenant_id, m.delivery_round, prev.status as previous_status, coalesce(m.follow_until > now(), false) as followed,
           ${byReferenceSql} as by_reference,
           c.channel, c.line_id, c.contact`,
    params: [w.event.messageId, rank[w.event.status], w.event.status, w.at, w.event.errors[0]?.code ?? null, w.errorTitle],
  };
}

/**
 * The statuses the dispatcher's concurrent handlers apply at the same moment go in one transaction: a campaign
 * brings three statuses per message, and one commit (one WAL flush) each was most of the database's work while
 * webhooks came in. Statuses of one message never meet in a batch (the dispatcher runs one customer's events
 * one after another), so a batch locks each row once; one that fails is applied status by status.
 */
function statusWriter(orm: MikroORM): Coalescer<StatusWrite, Applied[]> {
  return new Coalescer<StatusWrite, Applied[]>(
    (writes) =>
      orm.em.fork().transactional(async (tem) => {
        const sql = sqlOf(tem);
        const applied: Applied[][] = [];
        for (const w of writes) {
          const update = statusUpdate(w);
          applied.push(await sql.execute<Applied[]>(update.sql, update.params));
        }
        return applied;
      }),
    { maxBatch: 32, maxInFlight: 1 },
  );
}

export function whatsappStatusHandler(deps: StatusHandlerDeps) {
  const followForMs = deps.delivery?.followForMs ?? defaultDeliverySettings.followForMs;
  const writer = statusWriter(deps.orm);
  return async (row: InboxRow, ctx: { em: EntityManager; logger: Logger }): Promise<void> => {
    const event = row.payload as WhatsAppStatusEvent;
    const at = new Date(event.timestamp * 1000);
    const error = event.errors[0];
    const errorTitle = error ? `${error.message}${error.details ? `: ${error.details}` : ''}`.slice(0, 500) : null;
    const apply = () => writer.submit({ event, at, errorTitle });
    let result = await apply();
    // A send whose worker died (or timed out) before storing the answer: the status tells us it went out.
    if (result.length === 0 && row.phoneNumberId && event.contact.waId) {
      const adopted = await adoptUnknownStatus(ctx.em, { phoneNumberId: row.phoneNumberId, contact: event.contact.waId, providerMessageId: event.messageId, at });
      if (adopted) result = await apply();
    }
    if (result.length === 0) {
      // A send the fallback engine or a retry replaced (its attempt ended, or is of an earlier round); a send still
      // being recorded has an attempt that says sent in the current round, and is waited for like any other.
      const [superseded] = await ctx.em.getConnection().execute<Array<{ message_id: string }>>(
        `select a.message_id from message_attempts a join messages m on m.id = a.message_id
         where a.provider_message_id = ? and (a.outcome <> 'sent' or a.round <> m.delivery_round) limit 1`,
        [event.messageId],
      );
      if (superseded) {
        ctx.logger.info({ messageId: superseded.message_id, providerMessageId: event.messageId, status: event.status }, 'status of a send the fallback replaced: ignored');
        return;
      }
      if (row.attempts < MAX_ATTEMPTS_FOR_UNKNOWN) throw new Error(`no message with provider id ${event.messageId} yet`);
      ctx.logger.info({ messageId: event.messageId }, 'status for a message we did not send: ignored');
      return;
    }

    const [message] = result;
    const inFlight = message.previous_status === 'queued' || message.previous_status === 'sent';
    // A retried inbox row passes its status on again: the first try may have updated the row and then failed.
    const news = row.attempts > 1 || (event.status === 'failed' ? message.previous_status !== 'failed' : inFlight);
    const needsFallback = event.status === 'failed' && message.by_reference && fallbackMayHelp({ errorClass: error?.errorClass, errorCode: error?.code });
    if (!news || event.status === 'sent' || !(message.followed || needsFallback)) return;
    const signal: DeliveryStatusEvent = {
      status: event.status,
      providerMessageId: event.messageId,
      errorCode: error?.code,
      errorTitle: errorTitle ?? undefined,
      errorClass: error?.errorClass,
    };
    await tellDeliveryWorkflow(deps.temporal, message, signal, followForMs);
  };
}

async function tellDeliveryWorkflow(temporal: TemporalHandle, message: Applied, signal: DeliveryStatusEvent, followForMs: number): Promise<void> {
  const workflowId = followDeliveryWorkflowId(message.id, message.delivery_round);
  try {
    if (signal.status !== 'failed') {
      await temporal.client.workflow.getHandle(workflowId).signal(deliveryStatusSignalName, signal);
      return;
    }
    const input: FollowDeliveryInput = { tenantId: message.tenant_id, messageId: message.id, round: message.delivery_round, followForMs };
    const key = { tenantId: message.tenant_id, channel: message.channel, lineId: message.line_id, contact: message.contact } as JourneyKey;
    await temporal.client.workflow.signalWithStart('followDelivery', {
      workflowId,
      taskQueue: temporal.taskQueue,
      args: [input],
      signal: deliveryStatusSignalName,
      signalArgs: [signal],
      // A failure after the round's follow ended (it gave up waiting) still gets the fallback engine.
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      typedSearchAttributes: contactSearchAttributes(key),
    });
  } catch (err) {
    // The follow of this round ended already (delivered, or gave up): the row says it all.
    if (err instanceof WorkflowNotFoundError || err instanceof WorkflowExecutionAlreadyStartedError) return;
    throw err;
  }
}
