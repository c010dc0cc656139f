/**
 * Checks a `POST /{version}/{phone-number-id}/messages` body the way the Cloud API does, with its own
 * reading of Meta's reference (it deliberately shares no code with our adapter, so it catches its mistakes).
 * Every rejection is Graph error 100 with Meta-style details.
 */

export type SendRequest =
  | { kind: 'message'; to: string; waId: string; type: string }
  | { kind: 'read'; messageId: string };

export type Validation = { ok: true; request: SendRequest } | { ok: false; details: string };

const messageTypes = ['text', 'image', 'video', 'document', 'audio', 'sticker', 'template', 'interactive', 'location', 'contacts', 'reaction'];
const mediaTypes = ['image', 'video', 'document', 'audio', 'sticker'];
const interactiveTypes = ['button', 'list', 'cta_url', 'flow', 'product', 'product_list', 'catalog_message', 'location_request_message', 'call_permission_request'];

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown, max: number): v is string => typeof v === 'string' && v.trim().length > 0 && v.length <= max;

class Invalid extends Error {}
function need(condition: unknown, details: string): asserts condition {
  if (!condition) throw new Invalid(details);
}

function checkMedia(type: string, media: unknown): void {
  need(isObj(media), `The parameter ${type} is required.`);
  need((typeof media.link === 'string') !== (typeof media.id === 'string'), `Param ${type} must have exactly one of link or id.`);
  if (typeof media.link === 'string') need(/^https?:\/\/\S+$/.test(media.link), `Param ${type}['link'] is not a valid URL.`);
  if (media.caption !== undefined) need(isText(media.caption, 1024), `Param ${type}['caption'] must be at most 1024 characters.`);
}

function checkTemplate(t: unknown): void {
  need(isObj(t), 'The parameter template is required.');
  need(isText(t.name, 512), "The parameter template['name'] is required.");
  need(isObj(t.language) && isText(t.language.code, 15), "The parameter template['language']['code'] is required.");
  if (t.components === undefined) return;
  need(Array.isArray(t.components), "Param template['components'] must be an array.");
  for (const c of t.components) {
    need(isObj(c) && ['header', 'body', 'button', 'carousel', 'limited_time_offer'].includes(String(c.type)), "Param template['components'][]['type'] is invalid.");
    if (c.type === 'button') {
      need(['quick_reply', 'url', 'copy_code', 'catalog', 'flow', 'voice_call'].includes(String(c.sub_type)), "Param template['components'][]['sub_type'] is invalid.");
      need(/^\d+$/.test(String(c.index)), "Param template['components'][]['index'] is required.");
    }
    if (c.parameters !== undefined) {
      need(Array.isArray(c.parameters), "Param template['components'][]['parameters'] must be an array.");
      for (const p of c.parameters) {
        need(isObj(p) && typeof p.type === 'string', "Param template['components'][]['parameters'][]['type'] is required.");
        if (p.type === 'text') need(isText(p.text, 32768), "Param template['components'][]['parameters'][]['text'] is required.");
        if (p.type === 'payload') need(isText(p.payload, 256), "Param template['components'][]['parameters'][]['payload'] is required.");
        if (['image', 'video', 'document'].includes(p.type)) checkMedia(p.type, p[p.type]);
      }
    }
  }
}

function checkInteractive(i: unknown): void {
  need(isObj(i), 'The parameter interactive is required.');
  need(interactiveTypes.includes(String(i.type)), `Param interactive['type'] must be one of {${interactiveTypes.join(', ').toUpperCase()}}.`);
  if (i.type !== 'button' && i.type !== 'list') return;
  need(isObj(i.body) && isText(i.body.text, 1024), "The parameter interactive['body']['text'] is required.");
  if (i.footer !== undefined) need(isObj(i.footer) && isText(i.footer.text, 60), "Param interactive['footer']['text'] must be at most 60 characters.");
  if (i.header !== undefined) need(isObj(i.header) && typeof i.header.type === 'string', "Param interactive['header']['type'] is required.");
  need(isObj(i.action), "The parameter interactive['action'] is required.");
  const ids: string[] = [];
  if (i.type === 'button') {
    const buttons = i.action.buttons;
    need(Array.isArray(buttons) && buttons.length >= 1 && buttons.length <= 3, "Param interactive['action']['buttons'] must have between 1 and 3 elements.");
    for (const b of buttons) {
      need(isObj(b) && b.type === 'reply' && isObj(b.reply), "Param interactive['action']['buttons'][]['type'] must be REPLY.");
      need(isText(b.reply.title, 20), "Param interactive['action']['buttons'][]['reply']['title'] must be between 1 and 20 characters.");
      need(isText(b.reply.id, 256), "Param interactive['action']['buttons'][]['reply']['id'] is required.");
      ids.push(b.reply.id);
    }
  } else {
    need(isText(i.action.button, 20), "Param interactive['action']['button'] must be between 1 and 20 characters.");
    const sections = i.action.sections;
    need(Array.isArray(sections) && sections.length >= 1 && sections.length <= 10, "Param interactive['action']['sections'] must have between 1 and 10 elements.");
    for (const s of sections) {
      need(isObj(s) && Array.isArray(s.rows) && s.rows.length >= 1, "Param interactive['action']['sections'][]['rows'] is required.");
      if (sections.length > 1) need(isText(s.title, 24), "Param interactive['action']['sections'][]['title'] is required when there are several sections.");
      for (const r of s.rows) {
        need(isObj(r) && isText(r.title, 24), "Param interactive['action']['sections'][]['rows'][]['title'] must be between 1 and 24 characters.");
        need(isText(r.id, 200), "Param interactive['action']['sections'][]['rows'][]['id'] is required.");
        if (r.description !== undefined) need(isText(r.description, 72), "Param interactive['action']['sections'][]['rows'][]['description'] must be at most 72 characters.");
        ids.push(r.id);
      }
    }
    need(ids.length <= 10, 'Total row count exceed max allowed count: 10');
  }
  need(new Set(ids).size === ids.length, 'Duplicate button or row ids are not allowed.');
}

export function validateSend(body: unknown): Validation {
  try {
    need(isObj(body), 'The parameter messaging_product is required.');
    need(body.messaging_product !== undefined, 'The parameter messaging_product is required.');
    need(body.messaging_product === 'whatsapp', `Param messaging_product must be one of {WHATSAPP} - got "${String(body.messaging_product)}".`);
    if (body.status !== undefined) {
      need(body.status === 'read', `Param status must be one of {READ} - got "${String(body.status)}".`);
      need(isText(body.message_id, 512), 'The parameter message_id is required.');
      return { ok: true, request: { kind: 'read', messageId: body.message_id } };
    }
    if (body.recipient_type !== undefined) need(body.recipient_type === 'individual' || body.recipient_type === 'group', 'Param recipient_type must be one of {INDIVIDUAL, GROUP}.');
    need(typeof body.to === 'string' && body.to.trim() !== '', 'The parameter to is required.');
    const waId = body.to.replace(/[\s().-]/g, '');
    need(/^\+?\d{7,15}$/.test(waId), `Param to is not a valid phone number - got "${body.to}".`);
    const type = body.type === undefined ? 'text' : String(body.type);
    need(messageTypes.includes(type), `Param type must be one of {${messageTypes.join(', ').toUpperCase()}} - got "${type}".`);
    const payload = body[type];
    if (type === 'text') need(isObj(payload) && isText(payload.body, 4096), "The parameter text['body'] is required.");
    else if (mediaTypes.includes(type)) checkMedia(type, payload);
    else if (type === 'template') checkTemplate(payload);
    else if (type === 'interactive') checkInteractive(payload);
    else need(isObj(payload) || Array.isArray(payload), `The parameter ${type} is required.`);
    return { ok: true, request: { kind: 'message', to: body.to, waId: waId.replace(/^\+/, ''), type } };
  } catch (err) {
    if (err instanceof Invalid) return { ok: false, details: err.message };
    throw err;
  }
}
