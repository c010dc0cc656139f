import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { coreExamples } from '../../api/docs/examples';
import { renderDocsPage } from '../../api/docs/page';
import { apiCredentialsFor, signedInAccount, uniqueIp } from '../support/accounts';
import { openTestStack, type TestStack } from '../support/stack';

type Schema = Record<string, any>;

let stack: TestStack;
let page: string;
beforeAll(async () => {
  stack = await openTestStack();
  page = (await stack.http().get('/docs').set('Host', 'docs.example.test')).text;
});
afterAll(async () => stack.close());

const decode = (text: string): string =>
  text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');

/** The article of one example or operation, by its fragment id. */
function article(html: string, id: string): string {
  const start = html.indexOf(`<article class="${id.startsWith('op-') ? 'op' : 'example'}" id="${id}">`);
  if (start < 0) throw new Error(`no article #${id} on the page`);
  return html.slice(start, html.indexOf('</article>', start));
}

/** Each language's snippet of one example, as the reader copies it. */
function snippetsOf(html: string, exampleId: string): Record<string, string> {
  const panels = [...article(html, `example-${exampleId}`).matchAll(/data-lang-panel="(\w+)">[\s\S]*?<pre><code>([\s\S]*?)<\/code><\/pre>/g)];
  return Object.fromEntries(panels.map(([, lang, code]) => [lang, decode(code)]));
}

const corePaths = ['/api/auth/login', '/api/auth/api-token', '/api/webhook/outbound', '/api/webhook/flow/FLOW_ID/lead', '/api/conversations/CONV_ID/reply', '/api/flows/generate'];

describe('GET /docs', () => {
  it('answers a self-contained HTML page that loads nothing from elsewhere', async () => {
    const res = await stack.http().get('/docs');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.text).toMatch(/^<!DOCTYPE html>/);
    expect(res.text).not.toMatch(/<script[^>]+src=|<link[^>]+stylesheet|<img |url\(|@import/i);
    expect(res.text).toContain('href="/api/openapi.json"');
  });

  it('shows the six core calls in cURL, Node.js, Python and PHP', () => {
    for (const label of ['cURL', 'Node.js', 'Python', 'PHP']) expect(page).toContain(`>${label}</button>`);
    expect(coreExamples.map((e) => e.id)).toEqual(['login', 'api-token', 'outbound', 'lead', 'reply', 'generate']);
    for (const [i, example] of coreExamples.entries()) {
      const snippets = snippetsOf(page, example.id);
      expect(Object.keys(snippets)).toEqual(['curl', 'node', 'python', 'php']);
      for (const code of Object.values(snippets)) expect(code).toContain(`http://docs.example.test${corePaths[i]}`);
    }
    const text = decode(page);
    expect(text).toContain('Quick start');
    expect(text).toContain('POST /api/auth/api-token');
  });

  it('follows the seed calls: cookies.txt for login, a Bearer API_ACCESS_TOKEN for webhooks, multipart prompt/file', () => {
    const login = snippetsOf(page, 'login');
    expect(login.curl).toContain('-c cookies.txt');
    expect(login.curl).toContain(`-d '{"username":"YOUR_USERNAME","password":"YOUR_PASSWORD"}'`);
    expect(login.php).toContain("CURLOPT_COOKIEJAR => 'cookies.txt'");
    expect(snippetsOf(page, 'api-token').curl).toContain(`'{"clientId":"YOUR_CLIENT_ID","apiKey":"YOUR_API_KEY","ttlSec":3600}'`);
    for (const id of ['outbound', 'lead']) {
      for (const code of Object.values(snippetsOf(page, id))) expect(code).toContain('Bearer API_ACCESS_TOKEN');
    }
    const reply = snippetsOf(page, 'reply');
    expect(reply.curl).toContain('-b cookies.txt');
    expect(reply.node).toContain("Cookie: 'wdf_token=SESSION_COOKIE'");
    const generate = snippetsOf(page, 'generate');
    expect(generate.curl).toContain("-F 'prompt=Create a customer support flow for a taxi company'");
    expect(generate.curl).toContain("-F 'file=@/path/to/document.pdf'");
    expect(generate.node).toContain("form.append('prompt'");
    expect(generate.python).toContain('files=files');
    expect(generate.php).toContain("'prompt' => ");
    const byLanguage = Object.fromEntries(['curl', 'node', 'python', 'php'].map((l) => [l, coreExamples.map((e) => snippetsOf(page, e.id)[l]).join('\n')]));
    expect(byLanguage.curl.match(/^curl -X POST /gm)?.length).toBeGreaterThanOrEqual(6);
    expect(byLanguage.node.match(/await fetch\(/g)).toHaveLength(6);
    expect(byLanguage.python.match(/requests\.post\(/g)).toHaveLength(6);
    expect(byLanguage.php.match(/curl_exec\(\$ch\)/g)).toHaveLength(6);
  });

  it('writes snippets that parse: Node.js with node --check, cURL with bash -n', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowbot-docs-'));
    try {
      for (const example of coreExamples) {
        const snippets = snippetsOf(page, example.id);
        const nodeFile = path.join(dir, `${example.id}.mjs`);
        fs.writeFileSync(nodeFile, snippets.node);
        const node = spawnSync(process.execPath, ['--check', nodeFile], { encoding: 'utf8' });
        expect({ example: example.id, stderr: node.stderr, status: node.status }).toEqual({ example: example.id, stderr: '', status: 0 });
        const bash = spawnSync('bash', ['-n'], { input: snippets.curl, encoding: 'utf8' });
        expect({ example: example.id, stderr: bash.stderr, status: bash.status }).toEqual({ example: example.id, stderr: '', status: 0 });
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sends example bodies that the documented schemas accept', async () => {
    const paths = stack.openApi.paths as Record<string, Record<string, { requestBody?: { content: Record<string, { schema: Schema }> } }>>;
    const shape = (p: string) => p.replace(/\{[^}]+\}/g, '{}');
    let checked = 0;
    for (const example of coreExamples.filter((e) => e.json)) {
      const documented = Object.entries(paths).find(([p]) => shape(p) === shape(example.path))?.[1][example.method];
      const schema = documented?.requestBody?.content['application/json']?.schema;
      if (!schema) continue;
      checked++;
      for (const field of (schema.required as string[]) ?? []) expect({ example: example.id, keys: Object.keys(example.json!) }).toEqual({ example: example.id, keys: expect.arrayContaining([field]) });
      if (schema.properties && !schema.additionalProperties) {
        for (const key of Object.keys(example.json!)) expect({ example: example.id, key, documented: key in schema.properties }).toEqual({ example: example.id, key, documented: true });
      }
    }
    expect(checked).toBeGreaterThanOrEqual(2);
    // And the server agrees: the placeholders are refused as credentials, not as a malformed body.
    for (const id of ['login', 'api-token']) {
      const example = coreExamples.find((e) => e.id === id)!;
      const res = await stack.http().post(example.url).set('X-Forwarded-For', uniqueIp()).send(example.json!);
      expect({ id, status: res.status }).toEqual({ id, status: 401 });
    }
  });

  it('uses placeholders, never anything that looks like a secret, even for a signed-in user with an API key', async () => {
    const account = await signedInAccount(stack);
    const credentials = await apiCredentialsFor(stack, account.user);
    const res = await account.agent.get('/docs');
    expect(res.status).toBe(200);
    for (const html of [page, res.text]) {
      expect(html).not.toMatch(/sk_[0-9a-f]{6,}/i);
      expect(html).not.toMatch(/eyJ[A-Za-z0-9_-]{4,}/);
      expect(html).not.toMatch(/aiflow_[0-9a-f]{4,}/i);
      for (const placeholder of ['YOUR_USERNAME', 'YOUR_PASSWORD', 'YOUR_CLIENT_ID', 'YOUR_API_KEY', 'API_ACCESS_TOKEN', 'FLOW_ID', 'CONV_ID']) {
        expect(html).toContain(placeholder);
      }
    }
    expect(res.text).not.toContain(credentials.clientId);
    expect(res.text).not.toContain(credentials.apiKey);
  });

  it('puts the server origin where the seed has {BASE_URL}', async () => {
    expect(page).not.toContain('{BASE_URL}');
    const https = await stack.http().get('/docs').set('X-Forwarded-Proto', 'https').set('X-Forwarded-Host', 'flowbot.example.org');
    expect(decode(https.text)).toContain("fetch('https://flowbot.example.org/api/webhook/outbound'");
    expect(decode(https.text)).toContain('curl -X POST https://flowbot.example.org/api/auth/login \\');
  });

  it('prefers the configured public URL, the address integrators use behind a proxy', async () => {
    const behindProxy = await openTestStack({ PUBLIC_URL: 'https://bots.example.com/' });
    try {
      const res = await behindProxy.http().get('/docs').set('Host', 'internal:3000');
      expect(decode(res.text)).toContain('curl -X POST https://bots.example.com/api/auth/login \\');
      expect(res.text).not.toContain('internal:3000');
    } finally {
      await behindProxy.close();
    }
  });

  it('lists every operation of the OpenAPI document under its tag, with method, summary and auth', () => {
    const paths = stack.openApi.paths as Record<string, Record<string, { operationId: string; summary: string; tags: string[]; security: object[] }>>;
    const sections = page.split('<section class="tag" id="').slice(1);
    let count = 0;
    for (const [p, item] of Object.entries(paths)) {
      for (const [method, op] of Object.entries(item)) {
        count++;
        const section = sections.find((s) => s.includes(`<article class="op" id="op-${op.operationId}">`));
        expect({ op: op.operationId, tag: section && decode(section.slice(section.indexOf('<h3>') + 4, section.indexOf('</h3>'))) }).toEqual({ op: op.operationId, tag: op.tags[0] });
        const text = decode(article(page, `op-${op.operationId}`));
        expect(text).toContain(`>${method.toUpperCase()}</span>`);
        expect(text).toContain(`<code class="path">${p}</code>`);
        expect(text).toContain(op.summary);
        const keys = op.security.flatMap((r) => Object.keys(r));
        const auth = [...text.matchAll(/<span class="auth auth-\w+">(\w+)<\/span>/g)].map((m) => m[1]);
        expect({ op: op.operationId, auth }).toEqual({
          op: op.operationId,
          auth: keys.length ? keys.map((k) => ({ cookieAuth: 'Cookie', bearerAuth: 'Bearer' })[k]) : ['Public'],
        });
      }
    }
    expect(count).toBeGreaterThan(10);
  });

  it('renders request bodies readably from the schemas: fields, types, required, rules', () => {
    const register = decode(article(page, 'op-postApiAuthRegister'));
    expect(register).toMatch(/<code>username<\/code><\/td><td><code class="type">string<\/code><\/td><td><span class="req">required<\/span><\/td><td><span class="rules">3–64 characters; pattern/);
    expect(register).toMatch(/<code>email<\/code><\/td><td><code class="type">string \(email\)<\/code><\/td><td><span class="opt">optional<\/span>/);
    const apiToken = decode(article(page, 'op-postApiAuthApiToken'));
    expect(apiToken).toMatch(/<code>ttlSec<\/code><\/td><td><code class="type">integer<\/code><\/td><td><span class="opt">optional<\/span><\/td><td><span class="rules">60–86400; default 3600/);
    const me = decode(article(page, 'op-getApiAuthMe'));
    expect(me).toContain('<code>user.tenantId</code>');
    expect(me).toContain('"session" | "api"');
  });

  it('escapes what it shows: request headers and the text of the document', async () => {
    const res = await stack.http().get('/docs').set('X-Forwarded-Host', 'evil.test"><script>alert(1)</script>');
    expect(res.status).toBe(200);
    expect(res.text).toContain('evil.test&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(res.text).not.toContain('<script>alert(1)');
    expect(res.text.match(/<script/g)).toHaveLength(1);

    const hostile = '<img src=x onerror=alert(2)>';
    const doc = {
      openapi: '3.1.0',
      info: { title: `T ${hostile}`, version: '1' },
      paths: {
        [`/api/x/${hostile}`]: {
          get: {
            operationId: 'getX',
            summary: `S ${hostile}`,
            description: `D \`${hostile}\``,
            tags: [hostile],
            security: [],
            parameters: [{ name: hostile, in: 'query', required: false, schema: { type: 'string', pattern: hostile } }],
            responses: { 200: { description: hostile, content: { 'application/json': { schema: { type: 'object', properties: { [hostile]: { enum: [hostile] } } } } } } },
          },
        },
      },
    };
    const html = renderDocsPage(doc, { baseUrl: `http://${hostile}` });
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(2)&gt;');
  });

  it('sends a Content-Security-Policy that lets only its own inline style and script run', async () => {
    const res = await stack.http().get('/docs');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    const sha = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
    const script = res.text.match(/<script>([\s\S]*?)<\/script>/)![1];
    const style = res.text.match(/<style>([\s\S]*?)<\/style>/)![1];
    expect(csp).toContain(`script-src ${sha(script)}`);
    expect(csp).toContain(`style-src ${sha(style)}`);
    // The policy blocks inline handlers and style attributes, so the page must not rely on any.
    expect(res.text).not.toMatch(/<[^>]+\son[a-z]+=/i);
    expect(res.text).not.toMatch(/<[^>]+\sstyle=/i);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    // The policy is this page's alone.
    expect((await stack.http().get('/api/openapi.json')).headers['content-security-policy']).toBeUndefined();
  });
});
