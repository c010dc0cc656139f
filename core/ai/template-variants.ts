import { z } from 'zod';
import { strictJsonSchema } from './flow-generation';

/**
 * Variants of a message template's body for A/B tests (POST /api/templates/ai-variants): the prompt, the
 * structured-output shape, and WhatsApp's rules for a body, which every variant the model writes is checked
 * against. A variant is only useful if Meta would approve it as a template and the same send parameters fill
 * it, so its placeholders must be exactly the original's.
 */

export const templateBodyMaxChars = 1024;
/** Two line breaks (one empty line) in a row at most; Meta refuses bodies with long runs of empty lines. */
export const maxConsecutiveNewlines = 2;
export const maxVariants = 10;

const placeholder = /\{\{([A-Za-z0-9_]+)\}\}/g;

/** The body's placeholders in order of appearance, repeats included (`{{1}}`, `{{2}}`, `{{first_name}}`). */
export function placeholdersOf(text: string): string[] {
  return [...text.matchAll(placeholder)].map((m) => m[0]);
}

const counts = (items: string[]): Map<string, number> => items.reduce((m, p) => m.set(p, (m.get(p) ?? 0) + 1), new Map<string, number>());
const normalized = (text: string): string => text.toLowerCase().replace(/\s+/g, ' ').trim();
const times = (n: number) => (n === 1 ? 'once' : `${n} times`);

/** Words that are not placeholders: Meta wants at least 2n+1 of them for n placeholders. */
const plainWordCount = (text: string): number => text.replace(placeholder, ' ').split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;

/** What is wrong with a variant of `original` under WhatsApp's template rules; empty when it may be submitted. */
export function variantProblems(text: string, original: string): string[] {
  const problems: string[] = [];
  const body = text.replace(/\r\n?/g, '\n');
  if (!body.trim()) return ['it is empty'];
  if (body.length > templateBodyMaxChars) problems.push(`it is ${body.length} characters long; a template body has at most ${templateBodyMaxChars}`);

  const wanted = counts(placeholdersOf(original));
  const found = counts(placeholdersOf(body));
  for (const [p, n] of wanted) {
    const has = found.get(p) ?? 0;
    if (has !== n) problems.push(`it must contain ${p} ${times(n)}, as the original does (it has it ${has === 0 ? 'not at all' : times(has)})`);
  }
  for (const p of found.keys()) if (!wanted.has(p)) problems.push(`it adds ${p}, which the original does not have: use only the original's placeholders`);
  const strayBraces = (t: string) => /[{}]/.test(t.replace(placeholder, ''));
  if (strayBraces(body) && !strayBraces(original)) problems.push('it has broken placeholder braces: write placeholders exactly as {{1}}');

  if (/^\s*\{\{[A-Za-z0-9_]+\}\}/.test(body)) problems.push('it starts with a placeholder: put words before it');
  if (/\{\{[A-Za-z0-9_]+\}\}[\s\p{P}\p{S}]*$/u.test(body)) problems.push('it ends with a placeholder: put words after it');
  if (/^[ \t\p{P}\p{S}]*\{\{[A-Za-z0-9_]+\}\}[ \t\p{P}\p{S}]*$/mu.test(body)) problems.push('a placeholder stands alone on a line: put it inside a sentence');
  if (/\}\}[\s\p{P}\p{S}]*\{\{/u.test(body)) problems.push('two placeholders are next to each other: put words between them');
  const newlines = new RegExp(`(?:\\n[ \\t]*){${maxConsecutiveNewlines + 1},}`);
  if (newlines.test(body)) problems.push(`it has more than ${maxConsecutiveNewlines} line breaks in a row`);
  const n = placeholdersOf(body).length;
  if (n > 0 && plainWordCount(body) < 2 * n + 1) problems.push(`it has too many placeholders for its length: ${n} placeholders need at least ${2 * n + 1} other words`);
  if (normalized(body) === normalized(original)) problems.push('it is the same as the original');
  return problems;
}

export const templateVariantsAnswer = z.object({
  variants: z.array(z.object({ text: z.string().describe('The whole body text of the variant') })).describe('The variants, each different from the original and from the others'),
});

export const variantsSchemaName = 'flowbot_template_variants';

export function variantsResponseFormat() {
  return {
    type: 'json_schema' as const,
    json_schema: { name: variantsSchemaName, strict: true, schema: strictJsonSchema(z.toJSONSchema(templateVariantsAnswer, { io: 'output' })) as Record<string, unknown> },
  };
}

export interface VariantsRequest {
  /** The original body text. */
  text: string;
  count: number;
  tone?: string;
  /** A language code or name; default: the original's own language. */
  language?: string;
}

export function variantsSystemPrompt(): string {
  return [
    'You rewrite the body of a WhatsApp message template into alternative versions for A/B tests. Answer with JSON in the given schema.',
    'Each variant says the same thing as the original, to the same reader, in different words, structure or emphasis, and will be submitted to Meta as a template.',
    'Rules for every variant:',
    '- Keep every placeholder such as {{1}} exactly as written, as many times as the original has it; add no other placeholder and never fill one in.',
    '- Never start or end the text with a placeholder, never put a placeholder alone on a line, and always put words between two placeholders.',
    `- At most ${templateBodyMaxChars} characters, and at most ${maxConsecutiveNewlines} line breaks in a row.`,
    '- Plain WhatsApp text: *bold* and _italic_ are allowed, no markdown headings or links in brackets; no promises the original does not make.',
  ].join('\n');
}

export function variantsUserMessage(req: VariantsRequest): string {
  return [
    `Write ${req.count} variant${req.count === 1 ? '' : 's'} of this template body.`,
    `Tone: ${req.tone ?? 'the same as the original'}`,
    `Language: ${req.language ?? 'the same as the original'}`,
    'Body:',
    '"""',
    req.text,
    '"""',
  ].join('\n');
}

export interface VariantProblem {
  /** 1-based, in the order of the previous answer. */
  variant: number;
  errors: string[];
}

/** The follow-up that asks for `wanted` more variants, replacing the broken ones of the previous answer. */
export function variantsRepairMessage(problems: VariantProblem[], answerErrors: string[], wanted: number): string {
  const lines = [
    ...answerErrors.map((e) => `- ${e}`),
    ...problems.map((p) => `- variant ${p.variant}: ${p.errors.join('; ')}`),
  ];
  const which = problems.length ? ` (corrected versions of variants ${problems.map((p) => p.variant).join(', ')})` : '';
  return [
    'Your answer needs fixing:',
    ...lines,
    `Answer with ${wanted} more variant${wanted === 1 ? '' : 's'}${which} that follow every rule and differ from the original and from the variants that were fine, in the same JSON shape.`,
  ].join('\n');
}

export type ParsedVariants = { ok: true; texts: string[] } | { ok: false; error: string };

export function parseVariantsAnswer(answer: string): ParsedVariants {
  let json: unknown;
  try {
    json = JSON.parse(answer);
  } catch {
    return { ok: false, error: 'the answer is not valid JSON: answer with the variants as one JSON document in the given schema' };
  }
  const parsed = templateVariantsAnswer.safeParse(json);
  if (!parsed.success) return { ok: false, error: 'the answer does not fit the schema: {"variants": [{"text": "…"}]}' };
  return { ok: true, texts: parsed.data.variants.map((v) => v.text.replace(/\r\n?/g, '\n').trim()) };
}

/** The template's BODY text, from Meta's components. */
export function bodyTextOf(components: unknown[]): string | undefined {
  const body = components.find((c): c is { type: string; text?: unknown } => typeof c === 'object' && c !== null && (c as { type?: unknown }).type === 'BODY');
  return typeof body?.text === 'string' ? body.text : undefined;
}

/** The template's components with the BODY text replaced (its example values still fit: the placeholders are the same). */
export function withBodyText(components: unknown[], text: string): unknown[] {
  return components.map((c) => (typeof c === 'object' && c !== null && (c as { type?: unknown }).type === 'BODY' ? { ...c, text } : c));
}

/** Two variants that differ only in case or spacing are one. */
export const sameVariant = (a: string, b: string): boolean => normalized(a) === normalized(b);
