import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { optIn, optOut, optOutKeywords, saveOptOutKeywords } from '../../core/contacts/opt-out';
import { ContactOptOut, optOutSources } from '../../core/db/entities';
import { notFound } from '../../core/errors';
import { contactOf } from '../../core/triggers/prepare';
import type { ApiDeps } from '../deps';
import { route } from '../route';
import { pagination, successSchema } from '../schemas';

/**
 * Opt-outs: contacts campaigns skip, and the keywords that opt a contact out (and back in) when they write
 * one. Meta's marketing-preference webhook opts contacts out and in as well.
 */

const keyword = z.string().trim().min(1).max(50);
const keywordsSchema = z.object({
  stopKeywords: z.array(keyword).max(50).meta({ description: 'A message that is one of these (any case, punctuation ignored) opts its sender out' }),
  startKeywords: z.array(keyword).max(50).meta({ description: 'A message that is one of these opts its sender back in' }),
});

const optOutSchema = z.object({
  phone: z.string().meta({ description: 'E.164 with "+"' }),
  source: z.enum(optOutSources).meta({ description: "keyword: they wrote a stop keyword; meta: they stopped marketing messages in WhatsApp; api; provider_error: Meta refused a message with 131050" }),
  detail: z.string().nullable(),
  optedOutAt: z.string(),
});

const phoneParams = z.object({ phone: z.string().trim().min(7).max(20).meta({ description: 'The phone number, with or without "+"' }) });

export function optOutRoutes(_deps: ApiDeps) {
  return [
    route({
      method: 'get',
      path: '/api/settings/opt-out',
      tag: 'Settings',
      summary: 'The opt-out and opt-in keywords',
      description: 'Default: STOP, UNSUBSCRIBE and הסר opt out; START opts back in.',
      auth: 'user',
      responses: { 200: { description: 'The keywords', schema: keywordsSchema } },
      async handler(ctx, { principal }) {
        return optOutKeywords(ctx.state.em, principal!.tenantId);
      },
    }),
    route({
      method: 'put',
      path: '/api/settings/opt-out',
      tag: 'Settings',
      summary: 'Set the opt-out and opt-in keywords',
      auth: 'user',
      body: keywordsSchema,
      responses: { 200: { description: 'The keywords as stored (upper case, trimmed, without repeats)', schema: keywordsSchema } },
      async handler(ctx, { body, principal }) {
        return saveOptOutKeywords(ctx.state.em, principal!.tenantId, body);
      },
    }),
    route({
      method: 'get',
      path: '/api/opt-outs',
      tag: 'Contacts',
      summary: 'Contacts who opted out, newest first',
      auth: 'user',
      query: pagination,
      responses: { 200: { description: 'A page of opt-outs', schema: z.object({ optOuts: z.array(optOutSchema), total: z.number().int() }) } },
      async handler(ctx, { query, principal }) {
        const em: EntityManager = ctx.state.em;
        const [rows, total] = await em.findAndCount(ContactOptOut, { tenantId: principal!.tenantId }, { orderBy: { optedOutAt: 'desc', contact: 'asc' }, limit: query.limit, offset: query.offset });
        return {
          optOuts: rows.map((r) => ({ phone: `+${r.contact}`, source: r.source, detail: r.detail ?? null, optedOutAt: new Date(r.optedOutAt).toISOString() })),
          total,
        };
      },
    }),
    route({
      method: 'post',
      path: '/api/opt-outs',
      tag: 'Contacts',
      summary: 'Opt a contact out of campaigns',
      description: 'For unsubscribes your own systems receive. Campaigns skip the contact from their next recipient on.',
      auth: 'user',
      body: z.object({ phone: phoneParams.shape.phone, reason: z.string().trim().max(500).optional() }),
      responses: { 201: { description: 'Opted out', schema: successSchema } },
      async handler(ctx, { body, principal }) {
        await optOut(ctx.state.em, { tenantId: principal!.tenantId, contact: contactOf(body.phone), source: 'api', detail: body.reason ?? null });
        ctx.status = 201;
        return { success: true };
      },
    }),
    route({
      method: 'delete',
      path: '/api/opt-outs/:phone',
      tag: 'Contacts',
      summary: 'Opt a contact back in',
      auth: 'user',
      params: phoneParams,
      responses: { 200: { description: 'Opted back in', schema: successSchema }, 404: { description: 'The contact had not opted out' } },
      async handler(ctx, { params, principal }) {
        if (!(await optIn(ctx.state.em, principal!.tenantId, contactOf(params.phone)))) throw notFound('Opt-out');
        return { success: true };
      },
    }),
  ];
}
