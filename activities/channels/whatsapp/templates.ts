import { ChannelSendError } from '../../../core/channels/errors';
import { graphRequest, type GraphOptions } from './graph-request';

/**
 * Message template management in a WhatsApp Business Account (WABA), Meta's Business Management API:
 * `GET|POST|DELETE /{version}/{waba-id}/message_templates` and `POST /{version}/{template-id}` (edit).
 * Every failure is a classified ChannelSendError, like a send's.
 */

/** What is submitted for review. Components are Meta's template definition (HEADER, BODY, FOOTER, BUTTONS). */
export interface TemplateDefinition {
  name: string;
  language: string;
  category: string;
  components: unknown[];
}

/** A template as the WABA holds it. */
export interface ProviderTemplate {
  /** Meta's template id (hsm_id). */
  id: string;
  name: string;
  language: string;
  /** APPROVED, PENDING, REJECTED, PAUSED, DISABLED, … */
  status: string;
  category: string;
  components: unknown[];
  rejectedReason?: string;
  qualityScore?: string;
}

export interface TemplatesPage {
  templates: ProviderTemplate[];
  /** The cursor of the next page; absent on the last page. */
  after?: string;
}

export interface WhatsAppTemplatesClient {
  createTemplate(req: { wabaId: string; accessToken: string; template: TemplateDefinition }): Promise<{ id: string; status: string; category: string }>;
  listTemplates(req: { wabaId: string; accessToken: string; limit?: number; after?: string }): Promise<TemplatesPage>;
  /** Changes an existing template's category and/or components; Meta reviews it again. */
  editTemplate(req: { templateId: string; accessToken: string; category?: string; components?: unknown[] }): Promise<void>;
  /** By name: every language of it, or only the one with `templateId` (Meta's hsm_id). */
  deleteTemplate(req: { wabaId: string; accessToken: string; name: string; templateId?: string }): Promise<void>;
}

const listFields = 'id,name,language,status,category,components,rejected_reason,quality_score';

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined);

function unreadable(what: string): ChannelSendError {
  return new ChannelSendError({ errorClass: 'transient', message: `WhatsApp Business Management API answered ${what} without the expected fields` });
}

function toProviderTemplate(raw: unknown): ProviderTemplate | undefined {
  const t = (raw ?? {}) as Record<string, unknown>;
  const id = text(t.id);
  const name = text(t.name);
  const language = text(t.language);
  if (!id || !name || !language) return undefined;
  const reason = text(t.rejected_reason);
  const quality = text((t.quality_score as { score?: unknown } | undefined)?.score);
  return {
    id,
    name,
    language,
    status: text(t.status) ?? 'PENDING',
    category: text(t.category) ?? 'UTILITY',
    components: Array.isArray(t.components) ? t.components : [],
    ...(reason && reason !== 'NONE' ? { rejectedReason: reason } : {}),
    ...(quality ? { qualityScore: quality } : {}),
  };
}

export function createWhatsAppTemplatesClient(opts: GraphOptions): WhatsAppTemplatesClient {
  const request = graphRequest(opts);
  const templatesOf = (wabaId: string) => `${encodeURIComponent(wabaId)}/message_templates`;

  return {
    async createTemplate({ wabaId, accessToken, template }) {
      const answer = (await request('POST', templatesOf(wabaId), accessToken, { body: template })) as Record<string, unknown> | undefined;
      const id = text(answer?.id);
      if (!id) throw unreadable('a template creation');
      return { id, status: text(answer?.status) ?? 'PENDING', category: text(answer?.category) ?? template.category };
    },

    async listTemplates({ wabaId, accessToken, limit, after }) {
      const answer = (await request('GET', templatesOf(wabaId), accessToken, {
        query: { fields: listFields, limit: limit === undefined ? undefined : String(limit), after },
      })) as { data?: unknown; paging?: { cursors?: { after?: unknown }; next?: unknown } } | undefined;
      if (!Array.isArray(answer?.data)) throw unreadable('a template list');
      const templates = answer.data.map(toProviderTemplate).filter((t): t is ProviderTemplate => t !== undefined);
      // Graph gives cursors on every page; `next` only when there is another page.
      const nextCursor = answer.paging?.next ? text(answer.paging.cursors?.after) : undefined;
      return nextCursor ? { templates, after: nextCursor } : { templates };
    },

    async editTemplate({ templateId, accessToken, category, components }) {
      await request('POST', encodeURIComponent(templateId), accessToken, { body: { category, components } });
    },

    async deleteTemplate({ wabaId, accessToken, name, templateId }) {
      await request('DELETE', templatesOf(wabaId), accessToken, { query: { name, hsm_id: templateId } });
    },
  };
}

/** Every template of the WABA, following the `after` cursors (at most `maxPages` pages). */
export async function listAllTemplates(
  client: WhatsAppTemplatesClient,
  req: { wabaId: string; accessToken: string; pageSize?: number; maxPages?: number },
): Promise<ProviderTemplate[]> {
  const all: ProviderTemplate[] = [];
  let after: string | undefined;
  for (let page = 0; page < (req.maxPages ?? 100); page++) {
    const result = await client.listTemplates({ wabaId: req.wabaId, accessToken: req.accessToken, limit: req.pageSize ?? 100, after });
    all.push(...result.templates);
    if (!result.after) return all;
    after = result.after;
  }
  throw new ChannelSendError({ errorClass: 'definitive', message: `The WABA ${req.wabaId} lists more than ${all.length} templates; stopped paging` });
}
