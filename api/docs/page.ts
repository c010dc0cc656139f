import { createHash } from 'node:crypto';
import { coreExamples, placeholders, type ExampleCall } from './examples';
import { html, prose, slug, SafeHtml } from './html';
import { isErrorBody, rulesOf, schemaView, typeName, type JsonSchema } from './schema-view';
import { languages, snippet } from './snippets';

/**
 * The /docs page: a self-contained HTML rendering of the OpenAPI document (no CDN: self-hosters are often
 * offline) with a quick start and the core integration calls in cURL, Node.js, Python and PHP. Every text
 * that comes from the document, the examples or the request is escaped by the `html` tag.
 */

interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  security?: Record<string, unknown>[];
  parameters?: { name: string; in: string; required?: boolean; schema?: JsonSchema; description?: string }[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: JsonSchema }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: JsonSchema }> }>;
}

interface OperationEntry {
  method: string;
  path: string;
  operation: Operation;
  anchor: string;
}

const httpMethods = ['get', 'post', 'put', 'patch', 'delete'];

function operationsOf(openApi: Record<string, unknown>): OperationEntry[] {
  const paths = (openApi.paths ?? {}) as Record<string, Record<string, Operation>>;
  const entries: OperationEntry[] = [];
  for (const [path, item] of Object.entries(paths)) {
    for (const method of httpMethods) {
      const operation = item[method];
      if (!operation) continue;
      const id = operation.operationId;
      entries.push({ method, path, operation, anchor: `op-${id && /^[A-Za-z0-9_-]+$/.test(id) ? id : slug(`${method} ${path}`)}` });
    }
  }
  return entries;
}

/** `/api/users/{id}` and `/api/users/{userId}` are the same route. */
const pathShape = (path: string): string => path.replace(/\{[^}]+\}/g, '{}');

/** Public, Cookie, Bearer: what a caller must send, from the operation's security requirements. */
function authLabels(operation: Operation, openApi: Record<string, unknown>): string[] {
  const security = operation.security ?? (openApi.security as Record<string, unknown>[] | undefined) ?? [];
  if (!security.length) return ['Public'];
  const names: Record<string, string> = { cookieAuth: 'Cookie', bearerAuth: 'Bearer' };
  return [...new Set(security.flatMap((requirement) => Object.keys(requirement).map((key) => names[key] ?? key)))];
}

const exampleAuthLabel: Record<ExampleCall['auth'], string> = { none: 'Public', 'keep-cookie': 'Public', cookie: 'Cookie', bearer: 'Bearer' };

const methodBadge = (method: string) => html`<span class="method m-${method}">${method.toUpperCase()}</span>`;
const authBadges = (labels: string[]) => labels.map((label) => html`<span class="auth auth-${slug(label)}">${label}</span>`);

function statusClass(status: string): string {
  return `s${status.charAt(0)}xx`;
}

function renderExample(call: ExampleCall, baseUrl: string, reference: OperationEntry | undefined): SafeHtml {
  return html`<article class="example" id="example-${call.id}">
<h3>${call.title}</h3>
<div class="op-head">${methodBadge(call.method)}<code class="path">${call.path}</code>${authBadges([exampleAuthLabel[call.auth]])}</div>
<p>${prose(call.summary)}</p>
<div class="tabs" role="tablist" aria-label="Language">${languages.map(
    (lang) => html`<button type="button" role="tab" data-lang-tab="${lang.id}" aria-selected="${lang.id === 'curl'}">${lang.label}</button>`,
  )}</div>
${languages.map(
  (lang) => html`<div class="panel" role="tabpanel" data-lang-panel="${lang.id}">
<span class="panel-label">${lang.label}</span><button type="button" class="copy" data-copy aria-label="Copy the ${lang.label} example">Copy</button>
<pre><code>${snippet(call, lang.id, baseUrl)}</code></pre>
</div>`,
)}
${call.note ? html`<p class="note">${prose(call.note)}</p>` : ''}
${reference ? html`<p class="see"><a href="#${reference.anchor}">Reference: ${reference.method.toUpperCase()} ${reference.path}</a></p>` : ''}
</article>`;
}

function renderParameters(operation: Operation): SafeHtml | string {
  const parameters = operation.parameters ?? [];
  if (!parameters.length) return '';
  return html`<h4>Parameters</h4>
<table class="schema"><thead><tr><th>Name</th><th>In</th><th>Type</th><th>Required</th><th>Rules</th></tr></thead><tbody>${parameters.map((p) => {
    const rules = p.schema ? rulesOf(p.schema) : [];
    const description = p.description ?? (typeof p.schema?.description === 'string' ? p.schema.description : undefined);
    return html`<tr><td><code>${p.name}</code></td><td>${p.in}</td><td><code class="type">${p.schema ? typeName(p.schema) : 'string'}</code></td><td>${p.required ? html`<span class="req">required</span>` : html`<span class="opt">optional</span>`}</td><td><span class="rules">${rules.join('; ')}</span>${description ? html`${rules.length ? html`<br>` : ''}${prose(description)}` : ''}</td></tr>`;
  })}</tbody></table>`;
}

function renderRequestBody(operation: Operation): SafeHtml {
  const content = operation.requestBody?.content ?? {};
  return html`${Object.entries(content).map(
    ([contentType, media]) => html`<h4>Request body <span class="ctype">${contentType}</span></h4>
${media.schema ? schemaView(media.schema) : html`<p>Any ${contentType} body.</p>`}`,
  )}`;
}

function renderResponses(operation: Operation): SafeHtml {
  const responses = Object.entries(operation.responses ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const schemaOf = (response: (typeof responses)[number][1]) => Object.entries(response.content ?? {})[0];
  const errorBodies = responses.some(([, response]) => isErrorBody(schemaOf(response)?.[1].schema));
  return html`<h4>Responses</h4>
<table class="responses"><tbody>${responses.map(([status, response]) => {
    const [contentType, media] = schemaOf(response) ?? [];
    const body =
      media?.schema && !isErrorBody(media.schema)
        ? html`<details><summary>Body <span class="ctype">${contentType}</span></summary>${schemaView(media.schema)}</details>`
        : '';
    return html`<tr><td class="status-cell"><span class="status ${statusClass(status)}">${status}</span></td><td>${prose(response.description ?? '')}${body}</td></tr>`;
  })}</tbody></table>
${errorBodies ? html`<p class="error-note">Errors answer <a href="#errors"><code>{"error": "message"}</code></a>.</p>` : ''}`;
}

function renderOperation(entry: OperationEntry, openApi: Record<string, unknown>, example: ExampleCall | undefined): SafeHtml {
  const { operation } = entry;
  return html`<article class="op" id="${entry.anchor}">
<div class="op-head">${methodBadge(entry.method)}<code class="path">${entry.path}</code>${authBadges(authLabels(operation, openApi))}</div>
<p class="summary">${prose(operation.summary ?? '')}</p>
${operation.description ? html`<p class="desc">${prose(operation.description)}</p>` : ''}
${example ? html`<p class="see"><a href="#example-${example.id}">Copy-paste example: ${example.title}</a></p>` : ''}
${renderParameters(operation)}
${renderRequestBody(operation)}
${renderResponses(operation)}
</article>`;
}

const errorCodes: [number, string][] = [
  [200, 'Success'],
  [201, 'Created'],
  [202, 'Accepted: the work continues in the background'],
  [400, 'Bad Request: missing or invalid parameters (the message names the field)'],
  [401, 'Unauthorized: authentication required, or an invalid or expired token'],
  [403, 'Forbidden: insufficient permissions, or API use not approved'],
  [404, 'Not Found: the resource does not exist (or is not yours)'],
  [409, 'Conflict: the resource already exists'],
  [413, 'Payload Too Large'],
  [415, 'Unsupported Media Type: send application/json'],
  [429, 'Too Many Requests: rate limit exceeded; see the Retry-After header'],
  [500, 'Internal Server Error (the message carries a request id)'],
  [503, 'Service Unavailable: a dependency is down; try again shortly'],
];

export interface DocsPageOptions {
  /** The origin the examples call, without a trailing slash. */
  baseUrl: string;
}

/** The whole page. */
export function renderDocsPage(openApi: Record<string, unknown>, opts: DocsPageOptions): string {
  const info = (openApi.info ?? {}) as { title?: string; version?: string; description?: string };
  const operations = operationsOf(openApi);
  const byShape = new Map(operations.map((o) => [`${o.method} ${pathShape(o.path)}`, o]));
  const referenceOf = (call: ExampleCall) => byShape.get(`${call.method} ${pathShape(call.path)}`);
  const exampleOf = (entry: OperationEntry) => coreExamples.find((call) => referenceOf(call) === entry);
  const tags = new Map<string, OperationEntry[]>();
  for (const entry of operations) {
    const tag = entry.operation.tags?.[0] ?? 'Other';
    tags.set(tag, [...(tags.get(tag) ?? []), entry]);
  }
  const title = info.title ?? 'API';

  const page = html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} documentation</title>
<style>${new SafeHtml(pageStyle)}</style>
</head>
<body>
<nav class="sidebar" aria-label="Contents">
<p class="brand">${title} <span class="version">v${info.version ?? ''}</span></p>
<ul>
<li><a href="#quick-start">Quick start</a></li>
<li><a href="#examples">Integration examples</a>
<ul>${coreExamples.map((call) => html`<li><a href="#example-${call.id}">${call.title}</a></li>`)}</ul></li>
<li><a href="#reference">API reference</a>
<ul>${[...tags.keys()].map((tag) => html`<li><a href="#tag-${slug(tag)}">${tag}</a></li>`)}</ul></li>
<li><a href="#errors">Errors</a></li>
<li><a href="/api/openapi.json">OpenAPI 3.1 (JSON)</a></li>
</ul>
</nav>
<main>
<header class="intro">
<h1>${title} documentation</h1>
${info.description ? html`<p>${prose(info.description)}</p>` : ''}
<dl class="facts">
<dt>Base URL</dt><dd><code>${opts.baseUrl}</code></dd>
<dt>Format</dt><dd>JSON (<code>application/json</code>); <code>multipart/form-data</code> for uploads</dd>
<dt>Authentication</dt><dd>Bearer JWT for integrations, session cookie (<code>wdf_token</code>) for the web app</dd>
<dt>Machine-readable</dt><dd><a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI 3.1, generated from the same schemas that validate requests)</dd>
</dl>
</header>

<section id="quick-start">
<h2>Quick start</h2>
<ol class="steps">
<li><strong>Get API access.</strong> An administrator approves API use for your account in User Management. Then issue your key in Settings → API Access (<code>POST /api/settings/api-access/rotate</code>): you get a client id and an API key, shown once. Keep the key in a secrets manager.</li>
<li><strong>Get a token.</strong> <code>POST /api/auth/api-token</code> with <code>clientId</code> and <code>apiKey</code> answers an <code>accessToken</code>, valid for <code>ttlSec</code> seconds (default 3600, at most 86400).</li>
<li><strong>Call the API.</strong> Send <code>Authorization: Bearer API_ACCESS_TOKEN</code> to <code>POST /api/webhook/outbound</code> and <code>POST /api/webhook/flow/{flowId}/lead</code>. Calls marked <span class="auth auth-cookie">Cookie</span> only need a signed-in session: <code>POST /api/auth/login</code> first.</li>
</ol>
<p>Every failure answers a JSON body <code>{"error": "human-readable message"}</code> with the HTTP status below; see <a href="#errors">Errors</a>.</p>
</section>

<section id="examples">
<h2>Integration examples</h2>
<p>Copy-paste snippets for the core calls, in cURL, Node.js, Python and PHP. Replace the placeholders; never paste real keys into shared code.</p>
<table class="placeholders"><thead><tr><th>Placeholder</th><th>Replace with</th></tr></thead><tbody>${Object.entries(placeholders).map(
    ([name, meaning]) => html`<tr><td><code>${name}</code></td><td>${prose(meaning)}</td></tr>`,
  )}</tbody></table>
<ul class="lang-notes">
<li><strong>cURL</strong>: <code>-c cookies.txt</code> stores the session cookie at login, <code>-b cookies.txt</code> sends it.</li>
<li><strong>Node.js</strong> 18 or later: built-in <code>fetch</code>; save as an <code>.mjs</code> file for top-level <code>await</code>.</li>
<li><strong>Python</strong> 3: <code>pip install requests</code>.</li>
<li><strong>PHP</strong> 7.4 or later with the curl extension; it keeps cookies in <code>cookies.txt</code> like cURL.</li>
</ul>
${coreExamples.map((call) => renderExample(call, opts.baseUrl, referenceOf(call)))}
</section>

<section id="reference">
<h2>API reference</h2>
<p>Every operation of this server, grouped by area. <span class="auth auth-public">Public</span> needs no credentials, <span class="auth auth-cookie">Cookie</span> a signed-in session, <span class="auth auth-bearer">Bearer</span> an API JWT; an operation marked both accepts either.</p>
${[...tags.entries()].map(
  ([tag, entries]) => html`<section class="tag" id="tag-${slug(tag)}">
<h3>${tag}</h3>
<ul class="op-index">${entries.map(
    (entry) => html`<li><a href="#${entry.anchor}">${methodBadge(entry.method)}<code>${entry.path}</code> <span class="op-summary">${entry.operation.summary ?? ''}</span></a></li>`,
  )}</ul>
${entries.map((entry) => renderOperation(entry, openApi, exampleOf(entry)))}
</section>`,
)}
</section>

<section id="errors">
<h2>Errors</h2>
<p>Every error body has one shape:</p>
<pre class="light"><code>{
  "error": "Human-readable error message"
}</code></pre>
<table class="codes"><thead><tr><th>Code</th><th>Meaning</th></tr></thead><tbody>${errorCodes.map(
    ([code, meaning]) => html`<tr><td><span class="status ${statusClass(String(code))}">${code}</span></td><td>${meaning}</td></tr>`,
  )}</tbody></table>
</section>
</main>
<script>${new SafeHtml(pageScript)}</script>
</body>
</html>
`;
  return page.value;
}

/** Hash of an inline block for the Content-Security-Policy, so no 'unsafe-inline' is needed. */
const cspHash = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

const pageStyle = `
:root{--ink:#1f2328;--muted:#59636e;--line:#d8dee4;--bg:#f6f8fa;--card:#fff;--accent:#0b7a6b;--code-bg:#0f172a;--code-ink:#e2e8f0}
*{box-sizing:border-box}
html{scroll-behavior:smooth}
body{margin:0;font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:var(--bg);display:flex;align-items:flex-start}
a{color:var(--accent)}
code{font:13px/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace}
p code,li code,td code,dd code{background:#eef1f4;border-radius:4px;padding:1px 4px}
.sidebar{position:sticky;top:0;flex:0 0 270px;height:100vh;overflow-y:auto;background:var(--card);border-right:1px solid var(--line);padding:20px 16px;font-size:14px}
.sidebar ul{list-style:none;margin:0;padding:0}
.sidebar ul ul{padding-left:12px;margin:4px 0 8px}
.sidebar li{margin:3px 0}
.sidebar a{text-decoration:none;color:var(--ink)}
.sidebar a:hover{color:var(--accent)}
.brand{font-weight:700;font-size:17px;margin:0 0 16px}
.version{font-weight:400;color:var(--muted);font-size:13px}
main{flex:1;min-width:0;max-width:1000px;padding:24px 40px 80px}
h1{font-size:30px;margin:8px 0 8px}
h2{font-size:23px;margin:48px 0 12px;padding-top:8px;border-top:1px solid var(--line)}
h3{font-size:18px;margin:0 0 8px}
h4{font-size:14px;margin:16px 0 6px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:6px 16px;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 18px;margin:16px 0}
.facts dt{font-weight:600}
.facts dd{margin:0}
.steps{padding-left:22px}
.steps li{margin:8px 0}
.example,.op{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:18px 20px;margin:16px 0}
.tag>h3{font-size:20px;margin:32px 0 8px}
.op-head{display:flex;flex-wrap:wrap;align-items:center;gap:8px;margin-bottom:6px}
.path{font-size:14px;font-weight:600;word-break:break-all}
.method{display:inline-block;min-width:58px;text-align:center;font:700 12px/1 ui-monospace,Menlo,Consolas,monospace;color:#fff;border-radius:4px;padding:5px 6px}
.m-get{background:#1d63c7}.m-post{background:#0a7d55}.m-put{background:#b35c00}.m-patch{background:#6f42c1}.m-delete{background:#c0312b}
.auth{display:inline-block;font-size:12px;font-weight:600;border-radius:10px;padding:2px 9px;border:1px solid}
.auth-public{color:#1a7f37;border-color:#9bd3ab;background:#eefbf1}
.auth-cookie{color:#7d4e00;border-color:#e6c17a;background:#fff8e5}
.auth-bearer{color:#1d4ed8;border-color:#a9c1f5;background:#eef3ff}
.summary{font-weight:600;margin:4px 0}
.desc,.note{color:var(--muted)}
.see{margin:8px 0 0;font-size:14px}
.tabs{display:none;gap:2px;margin-top:12px;border-bottom:1px solid var(--line)}
.js .tabs{display:flex}
.tabs button{font:inherit;font-size:14px;background:none;border:0;border-bottom:2px solid transparent;padding:6px 14px;cursor:pointer;color:var(--muted)}
.tabs button[aria-selected=true]{color:var(--ink);border-bottom-color:var(--accent);font-weight:600}
.tabs button:focus-visible,.copy:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
.panel{margin-top:10px;position:relative}
.panel-label{display:block;font-weight:600;font-size:13px;color:var(--muted);margin-bottom:4px}
.js .panel-label{display:none}
.copy{display:none;position:absolute;top:8px;right:8px;font:inherit;font-size:12px;color:var(--code-ink);border:1px solid #475569;background:#1e293b;border-radius:6px;padding:3px 10px;cursor:pointer}
.copy:hover{background:#334155}
.js .copy{display:inline-block}
pre{margin:0;background:var(--code-bg);color:var(--code-ink);border-radius:8px;padding:14px 16px;overflow-x:auto}
pre code{color:inherit;background:none;padding:0;white-space:pre}
pre.light{background:var(--card);color:var(--ink);border:1px solid var(--line)}
table{border-collapse:collapse;width:100%;font-size:14px;margin:6px 0}
th,td{text-align:left;vertical-align:top;border-bottom:1px solid var(--line);padding:6px 8px}
th{font-size:12px;text-transform:uppercase;letter-spacing:.03em;color:var(--muted)}
.schema .field{white-space:nowrap}
.depth-1{padding-left:24px}.depth-2{padding-left:40px}.depth-3{padding-left:56px}.depth-4{padding-left:72px}.depth-5,.depth-6{padding-left:88px}
.type{color:#6f42c1}
.req{color:#c0312b;font-weight:600;font-size:12px}
.opt{color:var(--muted);font-size:12px}
.rules{color:var(--muted);word-break:break-word}
.ctype{font-weight:400;text-transform:none;letter-spacing:0;color:var(--muted);font-size:12px}
.status{display:inline-block;font:700 12px/1 ui-monospace,Menlo,Consolas,monospace;border-radius:4px;padding:4px 6px}
.s2xx{background:#dafbe1;color:#116329}.s3xx{background:#ddf4ff;color:#0a3069}.s4xx{background:#fff1e5;color:#953800}.s5xx{background:#ffebe9;color:#a40e26}
.status-cell{width:60px}
.responses td{padding:4px 8px}
details summary{cursor:pointer;color:var(--accent);font-size:13px;margin-top:2px}
.error-note{font-size:13px;color:var(--muted);margin:6px 0 0}
.one-of,.variant-name{margin:6px 0 2px;font-size:13px;font-weight:600}
.op-index{list-style:none;padding:0;margin:0 0 8px;background:var(--card);border:1px solid var(--line);border-radius:8px}
.op-index li{border-bottom:1px solid var(--line)}
.op-index li:last-child{border-bottom:0}
.op-index a{display:flex;gap:10px;align-items:center;padding:7px 12px;text-decoration:none;color:var(--ink)}
.op-index a:hover{background:var(--bg)}
.op-index .op-summary{color:var(--muted);font-size:14px}
.placeholders{background:var(--card)}
.lang-notes{padding-left:20px}
@media (max-width:900px){body{display:block}.sidebar{position:static;height:auto;width:auto;border-right:0;border-bottom:1px solid var(--line)}main{padding:16px}}
`;

const pageScript = `
(function () {
  var KEY = 'flowbot-docs-language';
  document.documentElement.className += ' js';
  function choose(lang) {
    var tabs = document.querySelectorAll('[data-lang-tab]');
    for (var i = 0; i < tabs.length; i++) {
      var on = tabs[i].getAttribute('data-lang-tab') === lang;
      tabs[i].setAttribute('aria-selected', on ? 'true' : 'false');
      tabs[i].tabIndex = on ? 0 : -1;
    }
    var panels = document.querySelectorAll('[data-lang-panel]');
    for (var j = 0; j < panels.length; j++) panels[j].hidden = panels[j].getAttribute('data-lang-panel') !== lang;
    try { localStorage.setItem(KEY, lang); } catch (e) {}
  }
  function selectText(code) {
    var range = document.createRange();
    range.selectNodeContents(code);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    try { return document.execCommand('copy'); } catch (e) { return false; }
  }
  function copy(button) {
    var code = button.closest('.panel').querySelector('code');
    function done(ok) {
      button.textContent = ok ? 'Copied' : 'Press Ctrl+C';
      setTimeout(function () { button.textContent = 'Copy'; }, 1600);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(code.textContent).then(function () { done(true); }, function () { done(selectText(code)); });
    } else {
      done(selectText(code));
    }
  }
  document.addEventListener('click', function (event) {
    var target = event.target instanceof Element ? event.target : null;
    var tab = target && target.closest('[data-lang-tab]');
    if (tab) {
      // Keep the clicked tab still while the examples above it change height.
      var before = tab.getBoundingClientRect().top;
      choose(tab.getAttribute('data-lang-tab'));
      window.scrollBy({ top: tab.getBoundingClientRect().top - before, behavior: 'instant' });
      return;
    }
    var button = target && target.closest('[data-copy]');
    if (button) copy(button);
  });
  document.addEventListener('keydown', function (event) {
    var tab = event.target instanceof Element && event.target.closest('[data-lang-tab]');
    if (!tab || (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft')) return;
    var siblings = Array.prototype.slice.call(tab.parentNode.querySelectorAll('[data-lang-tab]'));
    var next = siblings[(siblings.indexOf(tab) + (event.key === 'ArrowRight' ? 1 : siblings.length - 1)) % siblings.length];
    choose(next.getAttribute('data-lang-tab'));
    next.focus();
  });
  var saved = null;
  try { saved = localStorage.getItem(KEY); } catch (e) {}
  choose(saved && /^[a-z]+$/.test(saved) && document.querySelector('[data-lang-tab="' + saved + '"]') ? saved : 'curl');
})();
`;

/** The page's Content-Security-Policy: nothing loads from elsewhere, and only its own inline style and script run. */
export const docsPageCsp = [
  "default-src 'none'",
  `style-src ${cspHash(pageStyle)}`,
  `script-src ${cspHash(pageScript)}`,
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
