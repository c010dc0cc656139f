import { z } from 'zod';
import { messageText, nodeId, nodeSchema } from './common';

export const sendText = nodeSchema('send_text', z.object({ text: messageText, previewUrl: z.boolean().default(false) }));

export const sendMedia = nodeSchema(
  'send_media',
  z.object({
    mediaType: z.enum(['image', 'video', 'document', 'audio']),
    url: z.string().min(1).max(2048),
    caption: z.string().max(1024).optional(),
    filename: z.string().max(240).optional(),
  }),
);

export const sendTemplate = nodeSchema(
  'send_template',
  z
    .object({
      templateName: z.string().min(1).max(512).optional(),
      templateGroupId: z.string().min(1).optional(),
      language: z.string().min(2).max(15).default('en'),
      params: z.array(z.string().max(1024)).max(20).default([]),
    })
    .refine((d) => d.templateName || d.templateGroupId, { message: 'give templateName or templateGroupId' }),
);

const choiceId = nodeId;

export const buttons = nodeSchema(
  'buttons',
  z.object({
    text: z.string().min(1).max(1024),
    buttons: z
      .array(z.object({ id: choiceId, title: z.string().min(1).max(20, 'button titles are at most 20 characters') }))
      .min(1, 'give at least one button')
      .max(3, 'WhatsApp allows at most 3 reply buttons'),
  }),
);

export const list = nodeSchema(
  'list',
  z.object({
    text: z.string().min(1).max(1024),
    buttonLabel: z.string().min(1).max(20).default('Choose'),
    rows: z
      .array(z.object({ id: choiceId, title: z.string().min(1).max(24), description: z.string().max(72).optional() }))
      .min(1, 'give at least one row')
      .max(10, 'WhatsApp lists have at most 10 rows'),
  }),
);
