import { z } from 'zod';

export const nodeId = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, 'may contain letters, digits, _ and - only');
export const variableName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z_][A-Za-z0-9_.]*$/, 'must start with a letter or _ and contain letters, digits, _ and . only');
export const position = z.object({ x: z.number(), y: z.number() });

/** Every node shares these; `data` is what differs per type. `ui` keeps editor-only extras (Drawflow's class, html). */
export function nodeSchema<T extends string, D extends z.ZodType>(type: T, data: D) {
  return z.object({
    id: nodeId,
    type: z.literal(type),
    position: position.default({ x: 0, y: 0 }),
    data,
    ui: z.record(z.string(), z.unknown()).optional(),
  });
}

/** Text a node sends; `{{variable}}` placeholders are filled at run time. */
export const messageText = z.string().min(1, 'must not be empty').max(4096, 'must be at most 4096 characters (WhatsApp limit)');
