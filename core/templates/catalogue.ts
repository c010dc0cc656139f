import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { listAllTemplates, type WhatsAppTemplatesClient } from '../../activities/channels/whatsapp/templates';
import { ChannelSendError } from '../channels/errors';
import { decryptedAccessToken, markLineNeedsReauth, primaryLine } from '../channels/lines';
import type { SecretBox } from '../crypto/secret-box';
import { Template, WhatsAppLine, type TemplateCategory } from '../db/entities';
import { AppError, notFound } from '../errors';
import { newId } from '../ids';
import { templateCategoryOf, templateStatusOf } from './status';

/**
 * A tenant's message templates. Meta is authoritative: a create, edit or delete is made at the provider first,
 * with the token of one of the tenant's lines in the template's WhatsApp Business Account (WABA), and written
 * here once Meta accepted it. The caller waits for Meta's answer, so these calls are made from the request
 * (they send no message to anyone); Meta's errors are classified like a send's.
 */

export interface ProviderAccess {
  client: WhatsAppTemplatesClient;
  box: SecretBox;
}

export interface NewTemplate {
  name: string;
  language: string;
  category: TemplateCategory;
  components: unknown[];
  /** A line of the WABA to create it in (Meta's phone number id); default: the primary line. */
  phoneNumberId?: string;
}

export async function findTemplate(em: EntityManager, tenantId: string, id: string): Promise<Template> {
  const template = await em.findOne(Template, { id, tenantId });
  if (!template) throw notFound('Template');
  return template;
}

export function listTemplates(em: EntityManager, tenantId: string, filter: { status?: string; wabaId?: string; name?: string }): Promise<Template[]> {
  return em.find(
    Template,
    { tenantId, ...(filter.status ? { status: filter.status as Template['status'] } : {}), ...(filter.wabaId ? { wabaId: filter.wabaId } : {}), ...(filter.name ? { name: filter.name } : {}) },
    { orderBy: { name: 'asc', language: 'asc', id: 'asc' } },
  );
}

/** The line a request names by Meta's phone number id, else the primary line: its WABA is the one meant. */
export async function namedOrPrimaryLine(em: EntityManager, tenantId: string, phoneNumberId: string | undefined): Promise<WhatsAppLine> {
  if (phoneNumberId) {
    const line = await em.findOne(WhatsAppLine, { tenantId, phoneNumberId });
    if (!line) throw new AppError('invalid', `Invalid body: phoneNumberId: none of your WhatsApp lines has phone number id ${phoneNumberId}`);
    return line;
  }
  const line = await primaryLine(em, tenantId);
  if (!line) throw new AppError('invalid', 'No WhatsApp line is configured: add one in Settings → WhatsApp');
  return line;
}

/** Whose token manages a WABA's templates: an active line of the tenant in that WABA, the primary first. */
async function managingLine(em: EntityManager, tenantId: string, wabaId: string): Promise<WhatsAppLine> {
  const lines = await em.find(WhatsAppLine, { tenantId, wabaId }, { orderBy: { isPrimary: 'desc', createdAt: 'asc', id: 'asc' } });
  const line = lines.find((l) => l.status === 'active');
  if (line) return line;
  if (lines.length) {
    throw new AppError('upstream', `No line of WhatsApp Business Account ${wabaId} can reach WhatsApp: each is ${lines.map((l) => l.status).join(' or ')}; update a token in Settings → WhatsApp`);
  }
  throw new AppError('invalid', `None of your WhatsApp lines belongs to WhatsApp Business Account ${wabaId}`);
}

/** Runs one Business Management call with the line's token and turns Meta's refusal into an API error. */
async function atProvider<T>(em: EntityManager, access: ProviderAccess, line: WhatsAppLine, what: string, call: (accessToken: string) => Promise<T>): Promise<T> {
  try {
    return await call(decryptedAccessToken(line, access.box));
  } catch (err) {
    if (!(err instanceof ChannelSendError)) throw err;
    const reason = `${err.message}${err.details ? `: ${err.details}` : ''}${err.code !== undefined ? ` (code ${err.code})` : ''}`;
    switch (err.errorClass) {
      case 'credentials':
      case 'account':
        await markLineNeedsReauth(em, line.id);
        throw new AppError(
          'upstream',
          `WhatsApp refused the access token of line ${line.displayPhoneNumber || line.phoneNumberId} while trying to ${what}: ${reason}. ` +
            'The line is marked as needing re-authentication: update its token in Settings → WhatsApp',
        );
      case 'transient':
      case 'rate_limited':
        throw new AppError('unavailable', `WhatsApp could not ${what} right now: ${reason}; try again shortly`, {
          retryAfterSec: err.retryAfterMs === undefined ? undefined : Math.ceil(err.retryAfterMs / 1000),
        });
      default:
        throw new AppError('invalid', `WhatsApp refused to ${what}: ${reason}`);
    }
  }
}

const duplicate = (name: string, language: string, wabaId: string) =>
  new AppError('conflict', `A template named ${name} in language ${language} already exists in WhatsApp Business Account ${wabaId}`);

/** Submits a template for review; the row starts with Meta's answer (usually PENDING) and webhooks move it on. */
export async function createTemplate(em: EntityManager, access: ProviderAccess, tenantId: string, input: NewTemplate): Promise<Template> {
  const { wabaId } = await namedOrPrimaryLine(em, tenantId, input.phoneNumberId);
  if (await em.count(Template, { tenantId, wabaId, name: input.name, language: input.language })) throw duplicate(input.name, input.language, wabaId);
  const line = await managingLine(em, tenantId, wabaId);
  const definition = { name: input.name, language: input.language, category: input.category, components: input.components };
  const created = await atProvider(em, access, line, `create template ${input.name}`, (accessToken) =>
    access.client.createTemplate({ wabaId, accessToken, template: definition }),
  );
  const status = templateStatusOf(created.status);
  const template = em.create(Template, {
    id: newId(),
    tenantId,
    wabaId,
    providerTemplateId: created.id,
    name: input.name,
    language: input.language,
    category: templateCategoryOf(created.category, input.category),
    components: input.components,
    status: status && status !== 'DELETED' ? status : 'PENDING',
  });
  try {
    await em.flush();
  } catch (err) {
    if (err instanceof UniqueConstraintViolationException) throw duplicate(input.name, input.language, wabaId);
    throw err;
  }
  return template;
}

/** Edits the category and/or components at Meta; the edited template is reviewed again (PENDING). */
export async function editTemplate(
  em: EntityManager,
  access: ProviderAccess,
  tenantId: string,
  id: string,
  changes: { category?: TemplateCategory; components?: unknown[] },
): Promise<Template> {
  const template = await findTemplate(em, tenantId, id);
  if (!template.providerTemplateId) throw new AppError('invalid', `Template ${template.name} is not known to WhatsApp: sync the templates first`);
  const line = await managingLine(em, tenantId, template.wabaId);
  await atProvider(em, access, line, `edit template ${template.name}`, (accessToken) =>
    access.client.editTemplate({ templateId: template.providerTemplateId!, accessToken, ...changes }),
  );
  Object.assign(template, changes, { status: 'PENDING', rejectedReason: null });
  await em.flush();
  return template;
}

/** Deletes this language of the template at Meta, then here (it leaves every group it was in). */
export async function deleteTemplate(em: EntityManager, access: ProviderAccess, tenantId: string, id: string): Promise<void> {
  const template = await findTemplate(em, tenantId, id);
  const line = await managingLine(em, tenantId, template.wabaId);
  await atProvider(em, access, line, `delete template ${template.name}`, (accessToken) =>
    access.client.deleteTemplate({ wabaId: template.wabaId, accessToken, name: template.name, templateId: template.providerTemplateId ?? undefined }),
  );
  await em.remove(template).flush();
}

export interface SyncResult {
  /** The accounts synced. */
  wabaIds: string[];
  created: number;
  updated: number;
  removed: number;
  /** Accounts left out of a sync of all of them, and why (no line of theirs can reach WhatsApp). */
  skipped: Array<{ wabaId: string; reason: string }>;
}

/**
 * Makes the table mirror the WABAs: every template Meta lists is upserted (by Meta's id, else by name and
 * language), and rows Meta no longer lists are removed. Without a phone number id, every WABA the tenant's
 * lines belong to is synced, except those none of whose lines can reach WhatsApp (they are reported).
 */
export async function syncTemplates(em: EntityManager, access: ProviderAccess, tenantId: string, opts: { phoneNumberId?: string; pageSize?: number } = {}): Promise<SyncResult> {
  const wabaIds = opts.phoneNumberId
    ? [(await namedOrPrimaryLine(em, tenantId, opts.phoneNumberId)).wabaId]
    : [...new Set((await em.find(WhatsAppLine, { tenantId }, { fields: ['wabaId'] })).map((l) => l.wabaId))];
  const result: SyncResult = { wabaIds: [], created: 0, updated: 0, removed: 0, skipped: [] };
  for (const wabaId of wabaIds) {
    try {
      await syncWaba(em, access, tenantId, wabaId, opts.pageSize, result);
      result.wabaIds.push(wabaId);
    } catch (err) {
      // Syncing everything, an account whose token WhatsApp refuses is reported rather than failing the rest.
      const skippable = !opts.phoneNumberId && err instanceof AppError && (err.kind === 'upstream' || err.kind === 'invalid');
      if (!skippable) throw err;
      result.skipped.push({ wabaId, reason: err.message });
    }
  }
  return result;
}

async function syncWaba(em: EntityManager, access: ProviderAccess, tenantId: string, wabaId: string, pageSize: number | undefined, result: SyncResult): Promise<void> {
  const line = await managingLine(em, tenantId, wabaId);
  const listed = await atProvider(em, access, line, `list the templates of WhatsApp Business Account ${wabaId}`, (accessToken) =>
    listAllTemplates(access.client, { wabaId, accessToken, pageSize }),
  );
  const local = await em.find(Template, { tenantId, wabaId });
  const seen = new Set<Template>();
  for (const remote of listed) {
    const status = templateStatusOf(remote.status);
    if (status === 'DELETED') continue;
    const row = local.find((t) => t.providerTemplateId === remote.id) ?? local.find((t) => !seen.has(t) && t.name === remote.name && t.language === remote.language);
    const fields = {
      providerTemplateId: remote.id,
      name: remote.name,
      language: remote.language,
      category: templateCategoryOf(remote.category, row?.category ?? 'UTILITY'),
      components: remote.components,
      rejectedReason: remote.rejectedReason ?? null,
      qualityScore: remote.qualityScore ?? null,
    };
    if (row) {
      Object.assign(row, fields, { status: status ?? row.status });
      seen.add(row);
      result.updated++;
    } else {
      seen.add(em.create(Template, { id: newId(), tenantId, wabaId, ...fields, status: status ?? 'PENDING' }));
      result.created++;
    }
  }
  for (const gone of local.filter((t) => !seen.has(t))) {
    em.remove(gone);
    result.removed++;
  }
  await em.flush();
}
