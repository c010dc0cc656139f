import { z } from 'zod';
import { roles } from '../core/db/entities';

/** Schemas shared by several route files; the OpenAPI document is generated from these. */
export const publicUserSchema = z.object({
  id: z.string().uuid(),
  username: z.string(),
  displayName: z.string(),
  email: z.string().nullable(),
  role: z.enum(roles),
});

export const userEnvelope = z.object({ user: publicUserSchema });
export const successSchema = z.object({ success: z.literal(true), message: z.string().optional() });

export const username = z
  .string()
  .trim()
  .min(3, 'must be at least 3 characters')
  .max(64, 'must be at most 64 characters')
  .regex(/^[A-Za-z0-9._@+-]+$/, 'may contain letters, digits and . _ @ + - only');
export const password = z.string().min(8, 'must be at least 8 characters').max(256, 'must be at most 256 characters');
export const email = z.string().trim().toLowerCase().email('must be a valid e-mail address').max(254);
export const phone = z.string().trim().regex(/^\+?[1-9]\d{6,14}$/, 'must be a phone number in international format, e.g. +972501234567');

export const pagination = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
