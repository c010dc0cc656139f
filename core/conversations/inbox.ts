import { raw, type ObjectQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Conversation, Message, conversationStatuses, type ConversationStatus } from '../db/entities';
import { notFound } from '../errors';

/**
 * What the agents' inbox reads: a tenant's conversations (filtered, newest activity first), counts by
 * status, and one conversation's messages. Every read is scoped to the caller's tenant.
 */

export interface ConversationFilters {
  status?: ConversationStatus;
  /** `me` (the caller), `unassigned`, or a user id. */
  assignedTo?: string;
  /** Part of the customer's phone number (any punctuation) or name. */
  search?: string;
  flowId?: string;
  lineId?: string;
}

export interface Page {
  limit: number;
  offset: number;
}

const likeEscaped = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

function whereOf(tenantId: string, callerId: string, f: ConversationFilters): ObjectQuery<Conversation> {
  const where: Record<string, unknown> = { tenantId };
  if (f.status) where.status = f.status;
  if (f.assignedTo === 'me') where.assignedUserId = callerId;
  else if (f.assignedTo === 'unassigned') where.assignedUserId = null;
  else if (f.assignedTo) where.assignedUserId = f.assignedTo;
  if (f.flowId) where.flowId = f.flowId;
  if (f.lineId) where.lineId = f.lineId;
  const search = f.search?.trim();
  if (search) {
    const or: Array<Record<string, unknown>> = [{ customerName: { $ilike: `%${likeEscaped(search)}%` } }];
    // Contacts are stored as digits only (Meta's wa_id), so "+972 50-123" must match 97250123….
    const digits = search.replace(/[\s()+.-]/g, '');
    if (/^\d+$/.test(digits)) or.push({ contact: { $like: `%${digits}%` } });
    where.$or = or;
  }
  return where as ObjectQuery<Conversation>;
}

/** A page of conversations, the most recent activity (last message, else start) first. */
export async function listConversations(
  em: EntityManager,
  tenantId: string,
  callerId: string,
  filters: ConversationFilters,
  page: Page,
): Promise<{ conversations: Conversation[]; total: number }> {
  const [conversations, total] = await em.findAndCount(Conversation, whereOf(tenantId, callerId, filters), {
    orderBy: { [raw('coalesce(last_message_at, started_at)')]: 'desc', id: 'asc' },
    limit: page.limit,
    offset: page.offset,
  });
  return { conversations, total };
}

export type StatusCounts = Record<ConversationStatus, number> & { total: number };

/** Counts by status under the same filters except `status` itself, so each inbox tab can show its count. */
export async function countByStatus(em: EntityManager, tenantId: string, callerId: string, filters: ConversationFilters): Promise<StatusCounts> {
  const rows: Array<{ status: ConversationStatus; n: number | string }> = await em
    .createQueryBuilder(Conversation)
    .select(['status', raw('count(*) as n')])
    .where(whereOf(tenantId, callerId, { ...filters, status: undefined }))
    .groupBy('status')
    .execute();
  const counts = Object.fromEntries(conversationStatuses.map((s) => [s, 0])) as StatusCounts;
  counts.total = 0;
  for (const row of rows) {
    counts[row.status] = Number(row.n);
    counts.total += Number(row.n);
  }
  return counts;
}

/** The tenant's conversation, or 404 exactly as if it did not exist. */
export async function findConversation(em: EntityManager, tenantId: string, id: string): Promise<Conversation> {
  const conversation = await em.findOne(Conversation, { id, tenantId });
  if (!conversation) throw notFound('Conversation');
  return conversation;
}

/** A page of a conversation's messages counted back from the newest (offset 0 = the latest), oldest first. */
export async function conversationMessages(em: EntityManager, conversationId: string, page: Page): Promise<{ messages: Message[]; total: number }> {
  const [newestFirst, total] = await em.findAndCount(
    Message,
    { conversationId },
    { orderBy: { createdAt: 'desc', id: 'desc' }, limit: page.limit, offset: page.offset },
  );
  return { messages: newestFirst.reverse(), total };
}
