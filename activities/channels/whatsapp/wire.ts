import type { ButtonsMessage, ListMessage, OutboundMessage, TemplateComponent, TemplateMessage, TemplateParameter } from '../../../core/channels/outbound';

/** A Cloud API JSON object. Keys whose value is undefined are left out, so bodies are exactly what we mean. */
type Wire = Record<string, unknown>;

const compact = (o: Wire): Wire => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

const mediaObject = (m: { link?: string; id?: string; caption?: string; filename?: string }): Wire =>
  compact({ link: m.link, id: m.id, caption: m.caption, filename: m.filename });

function templateParameter(p: TemplateParameter): Wire {
  switch (p.type) {
    case 'text':
      return compact({ type: 'text', text: p.text, parameter_name: p.name });
    case 'image':
    case 'video':
    case 'document':
      return { type: p.type, [p.type]: mediaObject(p) };
    case 'payload':
      return { type: 'payload', payload: p.payload };
    case 'coupon_code':
      return { type: 'coupon_code', coupon_code: p.code };
  }
}

function templateComponent(c: TemplateComponent): Wire {
  const parameters = c.parameters.map(templateParameter);
  return c.type === 'button' ? { type: 'button', sub_type: c.subType, index: String(c.index), parameters } : { type: c.type, parameters };
}

function template(t: TemplateMessage): Wire {
  const components = (t.components ?? []).map(templateComponent);
  if (t.params?.length) components.push({ type: 'body', parameters: t.params.map((text) => ({ type: 'text', text })) });
  return compact({ name: t.name, language: { code: t.language }, components: components.length ? components : undefined });
}

function interactive(m: ButtonsMessage | ListMessage): Wire {
  const frame = {
    header: m.header === undefined ? undefined : { type: 'text', text: m.header },
    body: { text: m.body },
    footer: m.footer === undefined ? undefined : { text: m.footer },
  };
  if (m.type === 'buttons') {
    return compact({ type: 'button', ...frame, action: { buttons: m.buttons.map((b) => ({ type: 'reply', reply: { id: b.id, title: b.title } })) } });
  }
  const sections = m.sections.map((s) => compact({ title: s.title, rows: s.rows.map((r) => compact({ id: r.id, title: r.title, description: r.description })) }));
  return compact({ type: 'list', ...frame, action: { button: m.buttonText, sections } });
}

/** The body of `POST /{version}/{phone-number-id}/messages` for one message to one recipient. */
export function toCloudApiMessage(to: string, message: OutboundMessage): Wire {
  const envelope = { messaging_product: 'whatsapp', recipient_type: 'individual', to };
  switch (message.type) {
    case 'text':
      return { ...envelope, type: 'text', text: { body: message.body, preview_url: message.previewUrl ?? false } };
    case 'image':
    case 'video':
    case 'document':
    case 'audio':
      return { ...envelope, type: message.type, [message.type]: mediaObject(message) };
    case 'template':
      return { ...envelope, type: 'template', template: template(message) };
    case 'buttons':
    case 'list':
      return { ...envelope, type: 'interactive', interactive: interactive(message) };
  }
}

/** The body that marks an inbound message as read (blue ticks), optionally showing a typing indicator. */
export function toCloudApiRead(messageId: string, typingIndicator = false): Wire {
  return compact({ messaging_product: 'whatsapp', status: 'read', message_id: messageId, typing_indicator: typingIndicator ? { type: 'text' } : undefined });
}
