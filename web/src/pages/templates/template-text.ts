import type { NewTemplate, Template, TemplateCategory, TemplateComponent } from '../../api';
import type { Translate } from '../../i18n';

/**
 * WhatsApp's template rules that can be checked before Meta reviews a template: numbered placeholders
 * {{1}}, {{2}}… in order, an example for each, and the length limits of each part. Meta refuses the rest
 * with its own reason, which the page shows as it comes.
 */

const placeholder = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** The placeholders' numbers in order of first appearance, and any that are not numbers. */
export function placeholdersIn(text: string): { numbers: number[]; named: string[] } {
  const numbers: number[] = [];
  const named: string[] = [];
  for (const m of text.matchAll(placeholder)) {
    if (/^\d+$/.test(m[1])) {
      const n = Number(m[1]);
      if (!numbers.includes(n)) numbers.push(n);
    } else named.push(m[1]);
  }
  return { numbers, named };
}

/** How many parameters a body takes: its highest placeholder number. */
export const paramCount = (text: string): number => Math.max(0, ...placeholdersIn(text).numbers);

export const bodyOf = (t: Pick<Template, 'components'>): string => t.components.find((c) => c.type === 'BODY')?.text ?? '';

/** The body with the given parameters in place of {{n}} (unfilled ones stay as they are). */
export const filled = (body: string, params: string[]): string =>
  body.replace(/\{\{\s*(\d+)\s*\}\}/g, (m, n: string) => (params[Number(n) - 1]?.trim() ? params[Number(n) - 1] : m));

export interface TemplateForm {
  phoneNumberId: string;
  name: string;
  language: string;
  category: TemplateCategory;
  header: string;
  body: string;
  footer: string;
  examples: string[];
}

export type TemplateFormErrors = Partial<Record<'phoneNumberId' | 'name' | 'language' | 'header' | 'body' | 'footer' | 'examples', string>>;

export const languagePattern = /^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,4})?$/;

export function checkTemplate(form: TemplateForm, t: Translate): TemplateFormErrors {
  const e: TemplateFormErrors = {};
  const name = form.name.trim();
  if (!name) e.name = t('common.required');
  else if (!/^[a-z0-9_]+$/.test(name)) e.name = t('templates.nameRule');
  else if (name.length > 512) e.name = t('common.tooLong', { max: 512 });
  if (!languagePattern.test(form.language.trim())) e.language = t('templates.languageRule');
  if (!form.phoneNumberId) e.phoneNumberId = t('templates.needLine');

  const body = form.body.trim();
  const { numbers, named } = placeholdersIn(body);
  if (!body) e.body = t('common.required');
  else if (body.length > 1024) e.body = t('common.tooLong', { max: 1024 });
  else if (named.length) e.body = t('templates.namedPlaceholder', { name: `{{${named[0]}}}` });
  else if (numbers.some((n, i) => n !== i + 1)) e.body = t('templates.placeholderOrder');
  else if (/^\{\{\s*\d+\s*\}\}/.test(body) || /\{\{\s*\d+\s*\}\}$/.test(body)) e.body = t('templates.placeholderEdge');
  if (!e.body && numbers.some((n) => !form.examples[n - 1]?.trim())) e.examples = t('templates.examplesNeeded');

  const header = form.header.trim();
  if (header.length > 60) e.header = t('common.tooLong', { max: 60 });
  else if (placeholdersIn(header).numbers.length || placeholdersIn(header).named.length) e.header = t('templates.noPlaceholderHere');
  const footer = form.footer.trim();
  if (footer.length > 60) e.footer = t('common.tooLong', { max: 60 });
  else if (placeholdersIn(footer).numbers.length || placeholdersIn(footer).named.length) e.footer = t('templates.noPlaceholderHere');
  return e;
}

/** The request body of POST /api/templates, in Meta's component shape. */
export function templateBody(form: TemplateForm): NewTemplate {
  const body = form.body.trim();
  const count = paramCount(body);
  const components: TemplateComponent[] = [];
  if (form.header.trim()) components.push({ type: 'HEADER', format: 'TEXT', text: form.header.trim() });
  components.push({ type: 'BODY', text: body, ...(count ? { example: { body_text: [form.examples.slice(0, count).map((x) => x.trim())] } } : {}) });
  if (form.footer.trim()) components.push({ type: 'FOOTER', text: form.footer.trim() });
  return { name: form.name.trim(), language: form.language.trim(), category: form.category, components, phoneNumberId: form.phoneNumberId };
}
