/** The text of each user message of a chat request, in order (content parts joined by newlines). */
export function userTexts(messages: unknown): string[] {
  const list = (Array.isArray(messages) ? messages : []) as Array<{ role?: unknown; content?: unknown }>;
  return list
    .filter((m) => m.role === 'user')
    .map((m) =>
      typeof m.content === 'string'
        ? m.content
        : Array.isArray(m.content)
          ? (m.content as Array<{ type?: string; text?: string }>).map((p) => (p.type === 'text' ? (p.text ?? '') : '')).join('\n')
          : '',
    );
}
