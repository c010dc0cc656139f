import type { ExampleCall, JsonValue } from './examples';

/** The languages of the examples, in the order of their tabs. */
export const languages = [
  { id: 'curl', label: 'cURL' },
  { id: 'node', label: 'Node.js' },
  { id: 'python', label: 'Python' },
  { id: 'php', label: 'PHP' },
] as const;

export type Language = (typeof languages)[number]['id'];

/** Node.js and Python have no cookie file; they send the login's cookie value, a placeholder here. */
const cookieValue = 'wdf_token=SESSION_COOKIE';
const bearer = 'Bearer API_ACCESS_TOKEN';

/** How one language writes a value literal: the JS object in `JSON.stringify(...)`, a Python dict, a PHP array. */
interface LiteralStyle {
  indent: string;
  string: (s: string) => string;
  key: (k: string) => string;
  pair: string;
  object: [string, string];
  array: [string, string];
  keywords: { true: string; false: string; null: string };
  /** Spaces inside `{ }` when written on one line. */
  padObject: boolean;
  /** A comma after the last entry of a multi-line literal (not in JSON). */
  trailingComma: boolean;
}

/** A single-quoted string literal, as JavaScript and PHP write it. */
const singleQuoted = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

const jsStyle: LiteralStyle = {
  indent: '  ',
  string: singleQuoted,
  key: (k) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : singleQuoted(k)),
  pair: ': ',
  object: ['{', '}'],
  array: ['[', ']'],
  keywords: { true: 'true', false: 'false', null: 'null' },
  padObject: true,
  trailingComma: true,
};

const pythonStyle: LiteralStyle = {
  indent: '    ',
  string: (s) => JSON.stringify(s),
  key: (k) => JSON.stringify(k),
  pair: ': ',
  object: ['{', '}'],
  array: ['[', ']'],
  keywords: { true: 'True', false: 'False', null: 'None' },
  padObject: false,
  trailingComma: true,
};

const jsonStyle: LiteralStyle = { ...pythonStyle, indent: '  ', keywords: { true: 'true', false: 'false', null: 'null' }, trailingComma: false };

const phpStyle: LiteralStyle = {
  indent: '    ',
  string: singleQuoted,
  key: singleQuoted,
  pair: ' => ',
  object: ['[', ']'],
  array: ['[', ']'],
  keywords: { true: 'true', false: 'false', null: 'null' },
  padObject: false,
  trailingComma: true,
};

/**
 * A literal written as a person would: a flat object or a short array on one line, a nested object one entry
 * a line. `depth` is the indentation of its first line.
 */
function literal(value: JsonValue, style: LiteralStyle, depth: number, nested = false): string {
  if (value === null) return style.keywords.null;
  if (typeof value === 'boolean') return value ? style.keywords.true : style.keywords.false;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return style.string(value);
  const isArray = Array.isArray(value);
  const [open, close] = isArray ? style.array : style.object;
  const entries = isArray
    ? value.map((v) => (inner: number) => literal(v, style, inner, true))
    : Object.entries(value).map(([k, v]) => (inner: number) => `${style.key(k)}${style.pair}${literal(v, style, inner, true)}`);
  if (entries.length === 0) return `${open}${close}`;
  const pad = style.padObject && !isArray ? ' ' : '';
  const inline = `${open}${pad}${entries.map((e) => e(0)).join(', ')}${pad}${close}`;
  const flat = isArray || (!nested && Object.values(value).every((v) => v === null || typeof v !== 'object'));
  if (flat && !inline.includes('\n') && inline.length + depth * style.indent.length <= 80) return inline;
  const inner = style.indent.repeat(depth + 1);
  const lines = entries.map((e, i) => `${inner}${e(depth + 1)}${style.trailingComma || i < entries.length - 1 ? ',' : ''}`);
  return `${open}\n${lines.join('\n')}\n${style.indent.repeat(depth)}${close}`;
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

function curl(call: ExampleCall): string {
  const url = `{BASE_URL}${call.url}`;
  const lines = [`curl -X ${call.method.toUpperCase()} ${url}`];
  if (call.json) lines.push('-H "Content-Type: application/json"');
  if (call.auth === 'bearer') lines.push(`-H "Authorization: ${bearer}"`);
  if (call.auth === 'keep-cookie') lines.push('-c cookies.txt');
  if (call.auth === 'cookie') lines.push('-b cookies.txt');
  if (call.json) {
    const compact = JSON.stringify(call.json);
    const body = compact.length <= 80 ? compact : literal(call.json, jsonStyle, 0).replace(/\n/g, '\n  ');
    lines.push(`-d ${shellQuote(body)}`);
  }
  const fields = Object.entries(call.multipart?.fields ?? {}).map(([name, value]) => `-F ${shellQuote(`${name}=${value}`)}`);
  const command = (extra: string[]) => [...lines, ...fields, ...extra].join(' \\\n  ');
  const file = call.multipart?.optionalFile;
  if (!file) return command([]);
  return `${command([])}\n\n# With ${file.purpose}:\n${command([`-F ${shellQuote(`${file.name}=@${file.path}`)}`])}`;
}

function node(call: ExampleCall): string {
  const out: string[] = [];
  const headers: string[] = [];
  if (call.json) headers.push("'Content-Type': 'application/json'");
  if (call.auth === 'bearer') headers.push(`Authorization: '${bearer}'`);
  if (call.auth === 'cookie') headers.push(`Cookie: '${cookieValue}'`);
  const file = call.multipart?.optionalFile;
  if (call.multipart) {
    if (file) out.push("import { readFile } from 'node:fs/promises';", '');
    out.push('const form = new FormData();');
    for (const [name, value] of Object.entries(call.multipart.fields)) out.push(`form.append(${jsStyle.string(name)}, ${jsStyle.string(value)});`);
    if (file) {
      out.push(`// Optional: ${file.purpose}`);
      out.push(`// form.append('${file.name}', new Blob([await readFile('${file.path}')], { type: '${file.contentType}' }), '${file.path.split('/').pop()}');`);
    }
  }
  out.push(`const res = await fetch('{BASE_URL}${call.url}', {`);
  out.push(`  method: '${call.method.toUpperCase()}',`);
  if (headers.length) {
    const oneLine = `  headers: { ${headers.join(', ')} },`;
    out.push(oneLine.length <= 80 ? oneLine : `  headers: {\n${headers.map((h) => `    ${h},`).join('\n')}\n  },`);
  }
  if (call.json) out.push(`  body: JSON.stringify(${literal(call.json, jsStyle, 1)}),`);
  if (call.multipart) out.push('  body: form, // fetch writes the multipart/form-data Content-Type and boundary');
  out.push('});');
  out.push('console.log(res.status, await res.json());');
  if (call.auth === 'keep-cookie') {
    out.push('// The session cookie: send it as the Cookie header of the calls marked Cookie (wdf_token=SESSION_COOKIE)');
    out.push("console.log(res.headers.get('set-cookie')?.split(';')[0]);");
  }
  return out.join('\n');
}

function python(call: ExampleCall): string {
  const out = ['import requests', ''];
  const args = [`"{BASE_URL}${call.url}"`];
  if (call.auth === 'bearer') args.push(`headers={"Authorization": "${bearer}"}`);
  if (call.auth === 'cookie') args.push('cookies={"wdf_token": "SESSION_COOKIE"}');
  if (call.json) args.push(`json=${literal(call.json, pythonStyle, 1)}`);
  const file = call.multipart?.optionalFile;
  if (call.multipart) {
    // A (None, value) tuple makes requests send a form field as multipart, as the endpoint expects.
    const fields = Object.entries(call.multipart.fields).map(([name, value]) => `${JSON.stringify(name)}: (None, ${JSON.stringify(value)})`);
    out.push(`files = {${fields.join(', ')}}`);
    if (file) {
      out.push(`# Optional: ${file.purpose}`);
      out.push(`# files["${file.name}"] = ("${file.path.split('/').pop()}", open("${file.path}", "rb"), "${file.contentType}")`);
    }
    args.push('files=files');
  }
  args.push(`timeout=${call.multipart ? 120 : 30}`);
  out.push(`res = requests.${call.method}(`, ...args.map((a) => `    ${a},`), ')');
  out.push('print(res.status_code, res.json())');
  if (call.auth === 'keep-cookie') {
    out.push('# The session cookie: send it on the calls marked Cookie, as cookies={"wdf_token": SESSION_COOKIE}');
    out.push('print(res.cookies.get("wdf_token"))');
  }
  return out.join('\n');
}

function php(call: ExampleCall): string {
  /** `curl_setopt_array` entries: code without its comma, and an optional comment line before it or after it. */
  const options: { code: string; before?: string; after?: string }[] = [
    { code: 'CURLOPT_POST => true' },
    { code: 'CURLOPT_RETURNTRANSFER => true' },
  ];
  const headers: string[] = [];
  if (call.json) headers.push("'Content-Type: application/json'");
  if (call.auth === 'bearer') headers.push(`'Authorization: ${bearer}'`);
  if (headers.length) options.push({ code: `CURLOPT_HTTPHEADER => [\n${headers.map((h) => `        ${h},`).join('\n')}\n    ]` });
  if (call.auth === 'keep-cookie') options.push({ code: "CURLOPT_COOKIEJAR => 'cookies.txt'", after: 'keeps the session cookie for the calls marked Cookie' });
  if (call.auth === 'cookie') options.push({ code: "CURLOPT_COOKIEFILE => 'cookies.txt'", after: 'written by the login call' });
  if (call.json) options.push({ code: `CURLOPT_POSTFIELDS => json_encode(${literal(call.json, phpStyle, 1)})` });
  if (call.multipart) {
    const file = call.multipart.optionalFile;
    const parts = Object.entries(call.multipart.fields).map(([name, value]) => `        ${phpStyle.key(name)} => ${phpStyle.string(value)},`);
    if (file) parts.push(`        // Optional: ${file.purpose}`, `        // '${file.name}' => new CURLFile('${file.path}', '${file.contentType}'),`);
    options.push({ code: `CURLOPT_POSTFIELDS => [\n${parts.join('\n')}\n    ]`, before: 'An array body is sent as multipart/form-data' });
  }
  return [
    '<?php',
    `$ch = curl_init('{BASE_URL}${call.url}');`,
    'curl_setopt_array($ch, [',
    ...options.flatMap((o) => [...(o.before ? [`    // ${o.before}`] : []), `    ${o.code},${o.after ? ` // ${o.after}` : ''}`]),
    ']);',
    '$response = curl_exec($ch);',
    '$status = curl_getinfo($ch, CURLINFO_HTTP_CODE);',
    "echo $status, ' ', $response, PHP_EOL;",
  ].join('\n');
}

const writers: Record<Language, (call: ExampleCall) => string> = { curl, node, python, php };

/** The snippet of one call in one language, with `{BASE_URL}` replaced by the given origin. */
export function snippet(call: ExampleCall, language: Language, baseUrl: string): string {
  return writers[language](call).replaceAll('{BASE_URL}', baseUrl);
}
