import type { Translate } from '../../i18n';

/**
 * Recipients as pasted or uploaded: one per line, the phone number first, then that recipient's template
 * parameters — a CSV file (comma, semicolon or tab separated, quoted fields, an optional header row) or a plain
 * list of numbers. Each problem is reported with its line number before anything is sent.
 */

export interface Recipient {
  phone: string;
  params?: string[];
}

export interface ParsedRecipients {
  recipients: Recipient[];
  duplicates: number;
  problems: string[];
}

/** One CSV line into fields, honouring "quoted, fields" and "" inside quotes. */
function fields(line: string, separator: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        current += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else current += ch;
    } else if (ch === '"' && current.trim() === '') {
      quoted = true;
      current = '';
    } else if (ch === separator) {
      out.push(current.trim());
      current = '';
    } else current += ch;
  }
  out.push(current.trim());
  return out;
}

const separatorOf = (lines: string[]): string => {
  const sample = lines.slice(0, 5).join('\n');
  return [',', ';', '\t'].reduce((best, s) => (sample.split(s).length > sample.split(best).length ? s : best), ',');
};

/** `+972 50-123-4567` → `+972501234567`; undefined when it is not a phone number in international format. */
export function normalisedPhone(raw: string): string | undefined {
  const compact = raw.replace(/[\s\-().]/g, '');
  return /^\+?[1-9]\d{6,14}$/.test(compact) ? (compact.startsWith('+') ? compact : `+${compact}`) : undefined;
}

export function parseRecipients(text: string, expectedParams: number, t: Translate): ParsedRecipients {
  const lines = text.split(/\r?\n/);
  const nonEmpty = lines.filter((l) => l.trim());
  const separator = separatorOf(nonEmpty);
  const recipients: Recipient[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  let duplicates = 0;
  lines.forEach((line, index) => {
    if (!line.trim()) return;
    const [first, ...rest] = fields(line, separator);
    const phone = normalisedPhone(first ?? '');
    if (!phone) {
      // A header row (phone,name,…) is expected on the first line of a CSV, not an error.
      if (recipients.length === 0 && problems.length === 0 && !/\d{5,}/.test(first ?? '')) return;
      problems.push(t('bulk.badPhone', { line: index + 1, value: first ?? '' }));
      return;
    }
    // Spreadsheets add empty trailing columns; a template without parameters ignores the other columns.
    const params = expectedParams > 0 ? [...rest] : [];
    while (params.length && params[params.length - 1] === '') params.pop();
    if (params.length > 0 && params.length !== expectedParams) {
      problems.push(t('bulk.paramCount', { line: index + 1, expected: expectedParams, got: params.length }));
      return;
    }
    if (params.some((p) => !p)) {
      problems.push(t('bulk.emptyParam', { line: index + 1 }));
      return;
    }
    if (seen.has(phone)) {
      duplicates++;
      return;
    }
    seen.add(phone);
    recipients.push(params.length ? { phone, params } : { phone });
  });
  return { recipients, duplicates, problems };
}
