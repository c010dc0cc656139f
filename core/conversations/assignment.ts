import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Conversation, type ConversationStatus, type Role } from '../db/entities';
import { AppError, notFound } from '../errors';
import { signalJourney } from '../journey/signal';
import type { AgentAction, Channel, JourneyKey } from '../journey/types';
import type { TemporalHandle } from '../temporal/connect';

export type AssignmentAction = AgentAction['action'];

/** What each action makes of the conversation row. */
const outcome: Record<AssignmentAction, (userId: string) => { status: ConversationStatus; assignedUserId: string | null }> = {
  claim: (userId) => ({ status: 'agent', assignedUserId: userId }),
  release: () => ({ status: 'bot', assignedUserId: null }),
  close: () => ({ status: 'closed', assignedUserId: null }),
};

const SIGNAL_TIMEOUT_MS = 5000;

export const journeyKeyOf = (c: Conversation): JourneyKey => ({ tenantId: c.tenantId, channel: c.channel as Channel, lineId: c.lineId, contact: c.contact });

/**
 * An agent claims (the bot pauses), releases (the bot resumes) or closes a conversation. The row is locked,
 * the journey is signalled, and only then is the row changed, in the same transaction: when Temporal cannot
 * be reached nothing changes, and two agents claiming at once are served one after the other.
 * A conversation held by another agent may be taken over, released or closed only by an owner or admin.
 */
export async function changeAssignment(
  em: EntityManager,
  temporal: TemporalHandle,
  input: { tenantId: string; conversationId: string; action: AssignmentAction; actor: { userId: string; role: Role } },
): Promise<Conversation> {
  return em.transactional(async (tem) => {
    const conversation = await tem.findOne(Conversation, { id: input.conversationId, tenantId: input.tenantId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!conversation) throw notFound('Conversation');
    const holder = conversation.status === 'agent' ? conversation.assignedUserId : null;
    if (holder && holder !== input.actor.userId && input.actor.role === 'user') {
      throw new AppError('conflict', `Another agent holds this conversation; only an owner or admin can ${input.action} it`);
    }
    try {
      await temporal.connection.withDeadline(Date.now() + SIGNAL_TIMEOUT_MS, () =>
        signalJourney(temporal, journeyKeyOf(conversation), { name: 'agent', arg: { action: input.action, userId: input.actor.userId } }),
      );
    } catch {
      throw new AppError('unavailable', `Cannot ${input.action} the conversation right now: the workflow service is unavailable; nothing was changed, try again shortly`);
    }
    Object.assign(conversation, outcome[input.action](input.actor.userId), { updatedAt: new Date() });
    return conversation;
  });
}
