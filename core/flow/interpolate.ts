/**
 * Fills `{{name}}` placeholders from flow variables; an unknown variable becomes empty text rather than
 * leaking braces to a customer. Pure and dependency-free: workflow code uses it.
 */
export function interpolate(template: string, variables: Record<string, string>): string {
  return template.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}/g, (_, name: string) => variables[name] ?? '');
}
