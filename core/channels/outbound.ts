import { z } from 'zod';

/**
 * What a journey, an agent or a campaign asks a channel to send, independent of any provider's wire format.
 * Each channel adapter turns these into its own request body (WhatsApp: activities/channels/whatsapp/wire.ts).
 * Limits are WhatsApp's, the strictest of the channels we send to, so a message valid here is valid everywhere.
 */

const mediaSource = {
  /** A public https URL the provider fetches. */
  link: z.url().optional(),
  /** A media id previously uploaded to the provider. */
  id: z.string().min(1).optional(),
};
const exactlyOneSource = (m: { link?: string; id?: string }) => (m.link === undefined) !== (m.id === undefined);
const oneSourceMessage = { message: 'give exactly one of link or id' };

export const textMessageSchema = z.object({
  type: z.literal('text'),
  body: z.string().min(1).max(4096),
  /** Ask the provider to render a preview of the first URL in the body. */
  previewUrl: z.boolean().optional(),
});

export const mediaMessageSchema = z
  .object({
    type: z.enum(['image', 'video', 'document', 'audio']),
    ...mediaSource,
    caption: z.string().min(1).max(1024).optional(),
    /** Shown to the recipient; documents only. */
    filename: z.string().min(1).max(240).optional(),
  })
  .refine(exactlyOneSource, oneSourceMessage)
  .refine((m) => m.type !== 'audio' || m.caption === undefined, { message: 'audio takes no caption', path: ['caption'] })
  .refine((m) => m.type === 'document' || m.filename === undefined, { message: 'only documents take a filename', path: ['filename'] });

export const templateParameterSchema = z.discriminatedUnion('type', [
  /** `name` is the parameter name of a template created with named parameters ({{first_name}}). */
  z.object({ type: z.literal('text'), text: z.string().min(1), name: z.string().min(1).optional() }),
  z
    .object({ type: z.enum(['image', 'video', 'document']), ...mediaSource, filename: z.string().min(1).optional() })
    .refine(exactlyOneSource, oneSourceMessage),
  /** The payload a quick-reply button sends back when tapped. */
  z.object({ type: z.literal('payload'), payload: z.string().min(1) }),
  z.object({ type: z.literal('coupon_code'), code: z.string().min(1).max(20) }),
]);

export const templateComponentSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('header'), parameters: z.array(templateParameterSchema).min(1) }),
  z.object({ type: z.literal('body'), parameters: z.array(templateParameterSchema).min(1) }),
  /** A button of the template, by its position; OTP templates put the code in a `url` button. */
  z.object({
    type: z.literal('button'),
    subType: z.enum(['quick_reply', 'url', 'copy_code']),
    index: z.number().int().min(0).max(9),
    parameters: z.array(templateParameterSchema).min(1),
  }),
]);

export const templateMessageSchema = z
  .object({
    type: z.literal('template'),
    name: z.string().min(1).max(512),
    /** The template's language code, e.g. `en_US` or `he`. */
    language: z.string().min(2).max(15),
    /** Shorthand for the body's text parameters, in order. */
    params: z.array(z.string().min(1)).optional(),
    components: z.array(templateComponentSchema).optional(),
  })
  .refine((t) => !(t.params && t.components?.some((c) => c.type === 'body')), {
    message: 'give the body parameters either as params or as a body component, not both',
    path: ['params'],
  });

const replyButtonSchema = z.object({ id: z.string().min(1).max(256), title: z.string().min(1).max(20) });
const listRowSchema = z.object({ id: z.string().min(1).max(200), title: z.string().min(1).max(24), description: z.string().min(1).max(72).optional() });
const interactiveFrame = {
  /** A text header. */
  header: z.string().min(1).max(60).optional(),
  body: z.string().min(1).max(1024),
  footer: z.string().min(1).max(60).optional(),
};
const uniqueIds = (ids: string[]) => new Set(ids).size === ids.length;

/** Up to three reply buttons; the customer's tap comes back as a `button_reply` with the button's id. */
export const buttonsMessageSchema = z
  .object({ type: z.literal('buttons'), ...interactiveFrame, buttons: z.array(replyButtonSchema).min(1).max(3) })
  .refine((m) => uniqueIds(m.buttons.map((b) => b.id)), { message: 'button ids must be unique', path: ['buttons'] });

/** A menu of up to ten rows in sections; the choice comes back as a `list_reply` with the row's id. */
export const listMessageSchema = z
  .object({
    type: z.literal('list'),
    ...interactiveFrame,
    /** The label of the button that opens the list. */
    buttonText: z.string().min(1).max(20),
    sections: z
      .array(z.object({ title: z.string().min(1).max(24).optional(), rows: z.array(listRowSchema).min(1).max(10) }))
      .min(1)
      .max(10),
  })
  .refine((m) => m.sections.reduce((n, s) => n + s.rows.length, 0) <= 10, { message: 'a list holds at most 10 rows', path: ['sections'] })
  .refine((m) => uniqueIds(m.sections.flatMap((s) => s.rows.map((r) => r.id))), { message: 'row ids must be unique', path: ['sections'] })
  .refine((m) => m.sections.length === 1 || m.sections.every((s) => s.title), { message: 'every section needs a title when there are several', path: ['sections'] });

export const outboundMessageSchema = z.discriminatedUnion('type', [
  textMessageSchema,
  mediaMessageSchema,
  templateMessageSchema,
  buttonsMessageSchema,
  listMessageSchema,
]);

export type TextMessage = z.infer<typeof textMessageSchema>;
export type MediaMessage = z.infer<typeof mediaMessageSchema>;
export type TemplateParameter = z.infer<typeof templateParameterSchema>;
export type TemplateComponent = z.infer<typeof templateComponentSchema>;
export type TemplateMessage = z.infer<typeof templateMessageSchema>;
export type ButtonsMessage = z.infer<typeof buttonsMessageSchema>;
export type ListMessage = z.infer<typeof listMessageSchema>;
export type OutboundMessage = z.infer<typeof outboundMessageSchema>;
