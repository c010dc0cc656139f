import type { OutboundMessage } from './types';

/** A template message that names a template id or group rather than a template name. */
export type TemplateReferenceMessage = Extract<OutboundMessage, { type: 'template' }> & { templateId?: string; templateGroupId?: string };

/** Pure, so the journey workflow can tell which sends go through the fallback engine. */
export const isTemplateReference = (m: OutboundMessage): m is TemplateReferenceMessage =>
  m.type === 'template' && Boolean(m.templateId || m.templateGroupId);
