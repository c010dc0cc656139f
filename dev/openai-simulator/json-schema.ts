/**
 * Just enough JSON Schema for the simulator: building a document that fits a requested schema (guided by a
 * proposal of values), and the checks OpenAI applies to `strict` structured-output schemas, so a schema
 * OpenAI would refuse is refused here too.
 */
export type Schema = Record<string, unknown>;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function resolve(schema: Schema, root: Schema): Schema {
  const ref = schema.$ref;
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return schema;
  let target: unknown = root;
  for (const part of ref.slice(2).split('/')) target = isRecord(target) ? target[part] : undefined;
  return isRecord(target) ? resolve(target, root) : {};
}

const typesOf = (schema: Schema): string[] => (Array.isArray(schema.type) ? (schema.type as string[]) : typeof schema.type === 'string' ? [schema.type] : []);

/** The variant of a union whose `type` constant matches the proposal's `type` (how our node union is keyed). */
function pickVariant(variants: Schema[], proposal: unknown, root: Schema): Schema | undefined {
  const resolved = variants.map((v) => resolve(v, root));
  if (proposal === null) {
    const nullable = resolved.find((v) => typesOf(v).includes('null'));
    if (nullable) return nullable;
  }
  if (isRecord(proposal)) {
    const keyed = resolved.find((v) => {
      const typeProp = isRecord(v.properties) ? (v.properties as Record<string, Schema>).type : undefined;
      return isRecord(typeProp) && (typeProp.const === proposal.type || (Array.isArray(typeProp.enum) && typeProp.enum.includes(proposal.type)));
    });
    if (keyed) return keyed;
  }
  return resolved.find((v) => !typesOf(v).includes('null')) ?? resolved[0];
}

/**
 * A document that fits `schema`: the proposal's values where they fit, the schema's own (const, first enum
 * value, a placeholder) elsewhere. Properties the schema does not declare are dropped.
 */
export function instanceOf(schema: Schema, proposal?: unknown, root: Schema = schema): unknown {
  const s = resolve(schema, root);
  const variants = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (Array.isArray(variants)) return instanceOf(pickVariant(variants, proposal, root) ?? {}, proposal, root);
  if ('const' in s) return s.const;
  if (Array.isArray(s.enum)) return s.enum.includes(proposal) ? proposal : s.enum[0];
  const types = typesOf(s);
  if (proposal === null && types.includes('null')) return null;
  if (types.includes('object') || isRecord(s.properties)) {
    const out: Record<string, unknown> = {};
    const given = isRecord(proposal) ? proposal : {};
    const properties = (isRecord(s.properties) ? s.properties : {}) as Record<string, Schema>;
    const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : Object.keys(properties));
    for (const [key, prop] of Object.entries(properties)) {
      if (key in given || required.has(key)) out[key] = instanceOf(prop, given[key], root);
    }
    return out;
  }
  if (types.includes('array')) {
    const items = isRecord(s.items) ? s.items : {};
    return (Array.isArray(proposal) ? proposal : []).map((item) => instanceOf(items, item, root));
  }
  if (types.includes('string')) return typeof proposal === 'string' ? proposal : types.includes('null') ? null : 'text';
  if (types.includes('integer')) return Number.isInteger(proposal) ? proposal : typeof s.minimum === 'number' ? s.minimum : 1;
  if (types.includes('number')) return typeof proposal === 'number' ? proposal : typeof s.minimum === 'number' ? s.minimum : 1;
  if (types.includes('boolean')) return typeof proposal === 'boolean' ? proposal : false;
  if (types.includes('null')) return null;
  return proposal ?? null;
}

const unsupportedInStrict = ['minLength', 'maxLength', 'patternProperties', 'unevaluatedProperties', 'propertyNames', 'minProperties', 'maxProperties', 'oneOf', 'allOf', 'not', 'if', 'then', 'else'];

/** What OpenAI would refuse in a `strict: true` schema (its documented subset), as messages naming the place. */
export function strictSchemaProblems(schema: unknown, where = '#'): string[] {
  if (!isRecord(schema)) return [];
  const problems: string[] = [];
  for (const key of unsupportedInStrict) if (key in schema) problems.push(`${where}: '${key}' is not permitted`);
  const types = typesOf(schema);
  if (types.includes('object') || isRecord(schema.properties)) {
    if (schema.additionalProperties !== false) problems.push(`${where}: 'additionalProperties' is required to be supplied and to be false`);
    const properties = isRecord(schema.properties) ? Object.keys(schema.properties) : [];
    const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
    const missing = properties.filter((p) => !required.includes(p));
    if (missing.length) problems.push(`${where}: 'required' is required to be supplied and to be an array including every key in properties. Missing '${missing[0]}'`);
  }
  const children: Array<[string, unknown]> = [];
  if (isRecord(schema.properties)) for (const [k, v] of Object.entries(schema.properties)) children.push([`${where}/properties/${k}`, v]);
  if (isRecord(schema.items)) children.push([`${where}/items`, schema.items]);
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    const list = schema[key];
    if (Array.isArray(list)) list.forEach((v, i) => children.push([`${where}/${key}/${i}`, v]));
  }
  for (const key of ['$defs', 'definitions'] as const) {
    const defs = schema[key];
    if (isRecord(defs)) for (const [k, v] of Object.entries(defs)) children.push([`${where}/${key}/${k}`, v]);
  }
  for (const [path, child] of children) problems.push(...strictSchemaProblems(child, path));
  return problems;
}

/** The `type` constants of the node variants a flow schema offers (empty when the schema is not a flow's). */
export function nodeTypesOffered(schema: Schema): string[] {
  const found = new Set<string>();
  const walk = (s: unknown): void => {
    if (!isRecord(s)) return;
    const typeProp = isRecord(s.properties) ? (s.properties as Record<string, unknown>).type : undefined;
    if (isRecord(typeProp) && typeof typeProp.const === 'string' && isRecord((s.properties as Record<string, unknown>).data)) found.add(typeProp.const);
    for (const v of Object.values(s)) {
      if (Array.isArray(v)) v.forEach(walk);
      else walk(v);
    }
  };
  walk(schema);
  return [...found];
}
