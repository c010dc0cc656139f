/**
 * The text of a WhatsApp template for a channel without templates: its BODY component's text with the send's
 * parameters put in. Positional placeholders ({{1}}) take the parameter of that number; named ones
 * ({{first_name}}) take the parameters in the order the names first appear, as the Cloud API assigns them.
 */
export function renderTemplateBody(components: unknown, params: readonly string[]): string | undefined {
  const body = Array.isArray(components)
    ? (components as Array<{ type?: unknown; text?: unknown }>).find((c) => typeof c?.type === 'string' && c.type.toUpperCase() === 'BODY')
    : undefined;
  if (typeof body?.text !== 'string' || !body.text.trim()) return undefined;
  const names: string[] = [];
  return body.text.replace(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g, (_m, key: string) => {
    if (/^\d+$/.test(key)) return params[Number(key) - 1] ?? '';
    if (!names.includes(key)) names.push(key);
    return params[names.indexOf(key)] ?? '';
  });
}
