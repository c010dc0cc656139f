/** Checks a customer's answer to a question node. Pure: workflow code uses it. */
export type AnswerValidation = 'text' | 'number' | 'email' | 'phone' | 'date' | 'regex';

export function normalizeAnswer(kind: AnswerValidation, raw: string, pattern?: string): string | undefined {
  const text = raw.trim();
  if (text === '') return undefined;
  switch (kind) {
    case 'text':
      return text;
    case 'number': {
      const n = Number(text.replace(',', '.'));
      return Number.isFinite(n) && /^[-+]?\d+([.,]\d+)?$/.test(text) ? String(n) : undefined;
    }
    case 'email':
      return /^[^\s@]+@[^\s@]+\.[^\s@]{2,}$/.test(text) ? text.toLowerCase() : undefined;
    case 'phone': {
      const digits = text.replace(/[\s().-]/g, '');
      return /^\+?\d{7,15}$/.test(digits) ? digits : undefined;
    }
    case 'date':
      return parseDate(text);
    case 'regex':
      return pattern !== undefined && new RegExp(pattern).test(text) ? text : undefined;
  }
}

/** Accepts ISO dates (2026-03-15) and day-first dates (15/03/2026, 15.03.2026), as customers write them. */
function parseDate(text: string): string | undefined {
  let y: number, m: number, d: number;
  const iso = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(text);
  const dayFirst = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(text);
  if (iso) [y, m, d] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
  else if (dayFirst) [d, m, y] = [Number(dayFirst[1]), Number(dayFirst[2]), Number(dayFirst[3])];
  else return undefined;
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return undefined;
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}
