import { html, prose, type SafeHtml } from './html';

/** A JSON Schema (draft 2020-12) as `z.toJSONSchema` writes it into the OpenAPI document. */
export type JsonSchema = Record<string, unknown>;

interface Field {
  name: string;
  depth: number;
  type: string;
  required: boolean;
  rules: string[];
  description?: string;
}

const MAX_DEPTH = 6;

const isSchema = (value: unknown): value is JsonSchema => typeof value === 'object' && value !== null && !Array.isArray(value);
const variantsOf = (schema: JsonSchema): JsonSchema[] | undefined =>
  ((schema.oneOf ?? schema.anyOf) as unknown[] | undefined)?.filter(isSchema);

/** Object members of a union, when the union is a choice between object shapes. */
function objectVariants(schema: JsonSchema): JsonSchema[] | undefined {
  const variants = variantsOf(schema);
  return variants && variants.length > 1 && variants.every((v) => v.type === 'object' || v.properties) ? variants : undefined;
}

/** `allOf` (zod intersections) merged into one object shape. */
function merged(schema: JsonSchema): JsonSchema {
  const parts = (schema.allOf as unknown[] | undefined)?.filter(isSchema);
  if (!parts?.length) return schema;
  const all = [schema, ...parts.map(merged)];
  return {
    ...schema,
    type: 'object',
    properties: Object.assign({}, ...all.map((p) => p.properties ?? {})),
    required: all.flatMap((p) => (p.required as string[] | undefined) ?? []),
  };
}

/** A short, readable type: `string (email)`, `"text" | "image"`, `integer`, `string[]`, `string | null`. */
export function typeName(input: JsonSchema): string {
  const schema = merged(input);
  if (typeof schema.$ref === 'string') return schema.$ref.split('/').pop() ?? 'object';
  if ('const' in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  const variants = variantsOf(schema);
  if (variants) return [...new Set(variants.map(typeName))].join(' | ');
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : typeof schema.type === 'string' ? [schema.type] : [];
  if (!types.length) return schema.properties ? 'object' : 'any';
  return types
    .map((t) => {
      if (t === 'array') return isSchema(schema.items) ? `${wrapUnion(typeName(schema.items))}[]` : 'array';
      if (t === 'string' && typeof schema.format === 'string') return `string (${schema.format})`;
      return t;
    })
    .join(' | ');
}

const wrapUnion = (name: string): string => (name.includes(' | ') ? `(${name})` : name);

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** zod writes the safe-integer bounds of every `int()`; they say nothing to a reader. */
const bound = (n: unknown): number | undefined =>
  typeof n === 'number' && Math.abs(n) < Number.MAX_SAFE_INTEGER ? n : undefined;

function range(min: unknown, max: unknown, unit?: string): string | undefined {
  const lo = bound(min);
  const hi = bound(max);
  const withUnit = (n: number) => (unit ? plural(n, unit) : String(n));
  if (lo !== undefined && hi !== undefined) return lo === hi ? `exactly ${withUnit(lo)}` : `${lo}–${withUnit(hi)}`;
  if (lo !== undefined) return `at least ${withUnit(lo)}`;
  if (hi !== undefined) return `at most ${withUnit(hi)}`;
  return undefined;
}

/** The constraints a caller must meet, in words. */
export function rulesOf(schema: JsonSchema): string[] {
  const rules = [
    range(schema.minLength, schema.maxLength, 'character'),
    range(schema.minimum, schema.maximum),
    range(schema.minItems, schema.maxItems, 'item'),
    typeof schema.exclusiveMinimum === 'number' ? `greater than ${schema.exclusiveMinimum}` : undefined,
    typeof schema.exclusiveMaximum === 'number' ? `less than ${schema.exclusiveMaximum}` : undefined,
    // A format already says what the (long, generated) pattern of an e-mail or uuid says.
    typeof schema.pattern === 'string' && typeof schema.format !== 'string' ? `pattern ${schema.pattern}` : undefined,
    'default' in schema ? `default ${JSON.stringify(schema.default)}` : undefined,
  ];
  return rules.filter((r): r is string => r !== undefined);
}

function collect(schema: JsonSchema, prefix: string, depth: number, fields: Field[]): void {
  const shape = merged(schema);
  const properties = isSchema(shape.properties) ? shape.properties : {};
  const required = new Set((shape.required as string[] | undefined) ?? []);
  for (const [name, raw] of Object.entries(properties)) {
    if (!isSchema(raw)) continue;
    const property = merged(raw);
    const items = property.type === 'array' && isSchema(property.items) ? merged(property.items) : undefined;
    const nested = isSchema(property.properties) ? property : items && isSchema(items.properties) ? items : undefined;
    fields.push({
      name: `${prefix}${name}`,
      depth,
      type: nested ? (nested === items ? 'object[]' : 'object') : typeName(property),
      required: required.has(name),
      rules: rulesOf(property),
      description: typeof property.description === 'string' ? property.description : undefined,
    });
    if (nested && depth < MAX_DEPTH) collect(nested, `${prefix}${name}${nested === items ? '[]' : ''}.`, depth + 1, fields);
  }
}

/** The fields of an object schema, nested fields as `parent.child` rows, in document order. */
export function fieldsOf(schema: JsonSchema): Field[] {
  const fields: Field[] = [];
  collect(schema, '', 0, fields);
  return fields;
}

function fieldTable(schema: JsonSchema): SafeHtml {
  const fields = fieldsOf(schema);
  if (!fields.length) {
    const rules = rulesOf(schema);
    return html`<p class="schema-type"><code>${typeName(schema)}</code>${rules.length ? html` <span class="rules">${rules.join('; ')}</span>` : ''}</p>`;
  }
  return html`<table class="schema">
<thead><tr><th>Field</th><th>Type</th><th>Required</th><th>Rules</th></tr></thead>
<tbody>${fields.map(
    (f) => html`<tr><td class="field depth-${Math.min(f.depth, MAX_DEPTH)}"><code>${f.name}</code></td><td><code class="type">${f.type}</code></td><td>${f.required ? html`<span class="req">required</span>` : html`<span class="opt">optional</span>`}</td><td>${f.rules.length ? html`<span class="rules">${f.rules.join('; ')}</span>` : ''}${f.description ? html`${f.rules.length ? html`<br>` : ''}${prose(f.description)}` : ''}</td></tr>`,
  )}</tbody>
</table>`;
}

/** A schema as tables a person can read; a union of object shapes as one table per shape. */
export function schemaView(schema: JsonSchema): SafeHtml {
  const variants = objectVariants(schema);
  if (!variants) return fieldTable(schema);
  return html`<p class="one-of">One of:</p>${variants.map(
    (variant, i) => html`<div class="variant"><p class="variant-name">${variantLabel(variant, i)}</p>${fieldTable(variant)}</div>`,
  )}`;
}

/** "messageType: "text"" when the variant has a constant discriminator, else "Shape 2". */
function variantLabel(variant: JsonSchema, index: number): string {
  const properties = isSchema(variant.properties) ? variant.properties : {};
  for (const [name, property] of Object.entries(properties)) {
    if (isSchema(property) && 'const' in property) return `${name}: ${JSON.stringify(property.const)}`;
  }
  return typeof variant.description === 'string' ? variant.description : `Shape ${index + 1}`;
}

/** True for the `{"error": string}` body every failure answers with. */
export function isErrorBody(schema: JsonSchema | undefined): boolean {
  if (!schema) return false;
  const properties = isSchema(schema.properties) ? schema.properties : {};
  return Object.keys(properties).length === 1 && 'error' in properties && ((schema.required as string[] | undefined) ?? []).includes('error');
}
