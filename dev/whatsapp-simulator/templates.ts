import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { graphError } from './graph-errors';
import { envelope } from './payloads';
import type { SimRequest, SimResponse } from './routes';
import type { SimTemplate, SimulatorState } from './state';
import type { WebhookPoster } from './webhook-poster';

/**
 * Meta's Business Management endpoints for message templates, as far as FlowBot uses them:
 * `GET|POST|DELETE /{version}/{waba-id}/message_templates` and `POST /{version}/{template-id}` (edit). A new or
 * edited template is PENDING; after `templateReviewDelayMs` the review decides (`templateReviewOutcome`) and a
 * signed `message_template_status_update` webhook says so. Sends check the template like the Cloud API does.
 */

const categories = ['MARKETING', 'UTILITY', 'AUTHENTICATION'];
const componentTypes = ['HEADER', 'BODY', 'FOOTER', 'BUTTONS'];
const defaultPageSize = 25;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Meta's validation answer: code 100 with a user-facing title and message. */
function invalid(userMessage: string, subcode = 2388043): SimResponse {
  const answer = graphError(100) as { status: number; body: { error: Obj } };
  Object.assign(answer.body.error, { error_subcode: subcode, error_user_title: 'Invalid parameter', error_user_msg: userMessage });
  return answer;
}

const view = (t: SimTemplate): Obj => ({
  id: t.id,
  name: t.name,
  language: t.language,
  status: t.status,
  category: t.category,
  components: t.components,
  ...(t.rejectedReason ? { rejected_reason: t.rejectedReason } : {}),
  quality_score: { score: 'UNKNOWN' },
});

const cursor = (index: number) => Buffer.from(String(index)).toString('base64url');
const fromCursor = (value: string | null) => (value ? Number(Buffer.from(value, 'base64url').toString()) || 0 : 0);

export function createTemplateEndpoints(deps: {
  state: SimulatorState;
  poster: WebhookPoster;
  /** Keeps pending work visible to GET /_sim/settled. */
  track: (work: Promise<unknown>) => void;
  /** Changes on reset: a review begun before a reset does not report. */
  generation: () => number;
}) {
  const { state } = deps;

  /** The review Meta runs on a new or edited template, ending in its status webhook. */
  function review(template: SimTemplate): void {
    const started = deps.generation();
    deps.track(
      (async () => {
        await sleep(state.config.templateReviewDelayMs);
        const outcome = state.config.templateReviewOutcome;
        if (deps.generation() !== started || outcome === 'PENDING' || !state.templates.includes(template)) return;
        template.status = outcome;
        template.rejectedReason = outcome === 'REJECTED' ? 'INVALID_FORMAT' : undefined;
        await notify(template, outcome);
      })(),
    );
  }

  function notify(template: SimTemplate, event: string) {
    const value = {
      event,
      message_template_id: Number(template.id),
      message_template_name: template.name,
      message_template_language: template.language,
      reason: template.rejectedReason ?? 'NONE',
      message_template_category: template.category,
    };
    const body = envelope(template.wabaId, 'message_template_status_update', value) as { entry: Array<Record<string, unknown>> };
    body.entry[0].time = Math.floor(Date.now() / 1000);
    return deps.poster.post('event:message_template_status_update', body);
  }

  function add(wabaId: string, fields: Omit<SimTemplate, 'id' | 'wabaId'>): SimTemplate {
    const template: SimTemplate = { id: String(randomInt(100_000_000_000, 999_999_999_999)), wabaId, ...fields };
    state.templates.push(template);
    return template;
  }

  return {
    list(req: SimRequest, wabaId: string): SimResponse {
      const limit = Math.min(Number(req.query.get('limit')) || defaultPageSize, state.config.templatePageLimit);
      const name = req.query.get('name');
      const status = req.query.get('status');
      const all = state.templates.filter((t) => t.wabaId === wabaId && (!name || t.name === name) && (!status || t.status === status));
      const start = fromCursor(req.query.get('after'));
      const page = all.slice(start, start + limit);
      const more = start + limit < all.length;
      const paging = page.length ? { cursors: { before: cursor(start), after: cursor(start + page.length) }, ...(more ? { next: `${req.path}?after=${cursor(start + limit)}` } : {}) } : undefined;
      return { status: 200, body: { data: page.map(view), ...(paging ? { paging } : {}) } };
    },

    create(req: SimRequest, wabaId: string): SimResponse {
      const body = isObj(req.body) ? req.body : {};
      if (typeof body.name !== 'string' || !/^[a-z0-9_]{1,512}$/.test(body.name)) {
        return invalid('Template name can only contain lowercase alphanumeric characters and underscores.', 2388042);
      }
      if (typeof body.language !== 'string' || !/^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,4})?$/.test(body.language)) return invalid('Invalid template language.');
      if (!categories.includes(String(body.category))) return invalid(`Param category must be one of {${categories.join(', ')}}.`);
      const components = body.components;
      if (!Array.isArray(components) || !components.every((c) => isObj(c) && componentTypes.includes(String(c.type).toUpperCase()))) {
        return invalid("Param components must be an array of HEADER, BODY, FOOTER and BUTTONS components.");
      }
      if (state.templates.some((t) => t.wabaId === wabaId && t.name === body.name && t.language === body.language)) {
        return invalid(`There is already ${body.language} content for this template. You can create a new template and try again.`, 2388024);
      }
      const template = add(wabaId, { name: body.name, language: body.language, category: String(body.category), components, status: 'PENDING' });
      review(template);
      return { status: 200, body: { id: template.id, status: template.status, category: template.category } };
    },

    edit(req: SimRequest, templateId: string): SimResponse {
      const template = state.templates.find((t) => t.id === templateId);
      if (!template) return graphError(100, `Unsupported post request. Object with ID '${templateId}' does not exist`);
      const body = isObj(req.body) ? req.body : {};
      if (body.category !== undefined && !categories.includes(String(body.category))) return invalid(`Param category must be one of {${categories.join(', ')}}.`);
      if (body.category !== undefined) template.category = String(body.category);
      if (Array.isArray(body.components)) template.components = body.components;
      template.status = 'PENDING';
      template.rejectedReason = undefined;
      review(template);
      return { status: 200, body: { success: true } };
    },

    remove(req: SimRequest, wabaId: string): SimResponse {
      const name = req.query.get('name');
      const hsmId = req.query.get('hsm_id');
      if (!name) return graphError(100, 'The parameter name is required.');
      const doomed = state.templates.filter((t) => t.wabaId === wabaId && t.name === name && (!hsmId || t.id === hsmId));
      if (!doomed.length) return invalid(`Message template "${name}" was not found.`, 2593002);
      state.templates = state.templates.filter((t) => !doomed.includes(t));
      return { status: 200, body: { success: true } };
    },

    /** POST /_sim/templates: a template as if created in Meta's own tools, with any status. */
    seed(body: Obj): SimResponse {
      if (typeof body.name !== 'string' || typeof body.language !== 'string') return { status: 400, body: { error: 'name and language are required' } };
      const template = add(typeof body.wabaId === 'string' ? body.wabaId : state.config.wabaId, {
        name: body.name,
        language: body.language,
        category: typeof body.category === 'string' ? body.category : 'UTILITY',
        components: Array.isArray(body.components) ? body.components : [{ type: 'BODY', text: 'Hello' }],
        status: (typeof body.status === 'string' ? body.status : 'APPROVED') as SimTemplate['status'],
      });
      return { status: 200, body: template };
    },

    /**
     * What the Cloud API says about sending this template from this line: a failure injected for it, or 132001
     * when the template is not held in this language or not APPROVED (with strictTemplates, also when unknown).
     */
    checkSend(phoneNumberId: string, template: unknown): SimResponse | undefined {
      const t = isObj(template) ? template : {};
      const name = String(t.name);
      const language = isObj(t.language) ? String(t.language.code) : '';
      const injected = state.config.failTemplates[`${name}@${phoneNumberId}`] ?? state.config.failTemplates[name];
      if (injected !== undefined) return graphError(injected);
      const known = state.templates.filter((s) => s.name === name);
      if (!known.length && !state.config.strictTemplates) return undefined;
      const usable = known.some((s) => s.language === language && s.status === 'APPROVED');
      return usable ? undefined : graphError(132001, `template name (${name}) does not exist in ${language}`);
    },
  };
}
