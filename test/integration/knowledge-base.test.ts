import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { embed } from '../../dev/openai-simulator/embeddings';
import { chunkText } from '../../core/knowledge/chunking';
import { knowledgeWorkflowId } from '../../core/knowledge/documents';
import { searchKnowledge } from '../../core/knowledge/search';
import { queryTerms, searchableText } from '../../core/knowledge/text';
import { signedInAccount, type TestAccount } from '../support/accounts';
import { eventually } from '../support/journey-stack';
import { startInProcessWorker, type InProcessWorker } from '../support/in-process-worker';
import { startOpenAiSimulator, type OpenAiSimulatorProcess } from '../support/openai-simulator-process';
import { openTestStack, type TestStack } from '../support/stack';
import { tinyPdf, tinyPng } from '../support/tiny-pdf';

let stack: TestStack;
let ai: OpenAiSimulatorProcess;
let worker: InProcessWorker;

beforeAll(async () => {
  [stack, ai] = await Promise.all([openTestStack(), startOpenAiSimulator()]);
  worker = await startInProcessWorker({ config: stack.deps.config, orm: stack.orm });
}, 60_000);
afterAll(async () => {
  await worker?.stop();
  await ai?.stop();
  await stack?.close();
});
beforeEach(async () => ai.reset());

const sql = <T>(query: string, params: unknown[] = []) => stack.orm.em.getConnection().execute<T[]>(query, params);

/** The account's own AI provider: the simulator, through the real openai client. */
async function useSimulator(account: TestAccount, apiKey = ai.apiKey): Promise<void> {
  const res = await account.agent.post('/api/settings/ai').send({ name: 'Simulator', kind: 'openai_compatible', baseUrl: ai.baseUrl, apiKey });
  expect(res.status).toBe(201);
}

const addFile = (account: TestAccount, data: Buffer | string, filename: string, contentType = 'application/octet-stream') =>
  account.agent.post('/api/knowledge-base').attach('file', Buffer.isBuffer(data) ? data : Buffer.from(data), { filename, contentType });

interface DocumentView {
  id: string;
  status: string;
  stage: string | null;
  progress: number;
  chunkCount: number;
  chunksEmbedded: number;
  embeddingModel: string | null;
  embeddingError: string | null;
  error: string | null;
  searchable: boolean;
  uploadId: string | null;
}

async function documentOf(account: TestAccount, id: string): Promise<DocumentView | undefined> {
  const res = await account.agent.get('/api/knowledge-base');
  expect(res.status).toBe(200);
  return (res.body.documents as DocumentView[]).find((d) => d.id === id);
}

/** Waits for indexing to end (ready or failed) and answers the document. */
const indexed = (account: TestAccount, id: string): Promise<DocumentView> =>
  eventually(async () => {
    const doc = await documentOf(account, id);
    return doc && (doc.status === 'ready' || doc.status === 'failed') && !doc.stage?.match(/extracting|chunking|embedding/) ? doc : undefined;
  }, `document ${id} indexed`);

async function addAndIndex(account: TestAccount, data: Buffer | string, filename: string, contentType?: string): Promise<DocumentView> {
  const res = await addFile(account, data, filename, contentType);
  expect(res.status).toBe(202);
  return indexed(account, res.body.document.id);
}

const search = async (account: TestAccount, q: string, limit = 5) => {
  const res = await account.agent.get('/api/knowledge-base').query({ q, limit });
  expect(res.status).toBe(200);
  return res.body.search as { query: string; mode: 'hybrid' | 'fulltext'; note?: string; hits: Array<{ documentId: string; documentName: string; chunkId: string; chunkIndex: number; text: string; score: number }> };
};

/** A section of a FAQ, padded past half a chunk so that each heading starts a chunk of its own. */
const section = (title: string, fact: string) =>
  `## ${title}\n\n${fact}\n\n${Array.from({ length: 6 }, (_, i) => `Our team is happy to help with anything about ${title.toLowerCase()}, note ${i + 1}.`).join(' ')}`;

const bakeryFaq = [
  '# Sunrise Bakery: questions and answers',
  section('Opening hours', 'We open Sunday to Thursday from 7:00 to 19:00 and Friday from 7:00 to 14:00. On Saturday the bakery is closed.'),
  section('Delivery', 'Deliveries leave every morning at 9:00 and reach addresses within 10 km. A delivery costs 15 shekels, free above 150 shekels.'),
  section('Allergies', 'Every bread is baked in a kitchen that also handles nuts, sesame and gluten, so traces may remain.'),
  section('Returns', 'A cake that arrived damaged is replaced the same day: send a photo within two hours of delivery.'),
].join('\n\n');

/** A Word document with these paragraphs: a ZIP of the three parts Word needs, stored uncompressed. */
function tinyDocx(paragraphs: string[]): Buffer {
  const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts: Array<[string, string]> = [
    [
      '[Content_Types].xml',
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
    ],
    [
      '_rels/.rels',
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
    ],
    [
      'word/document.xml',
      `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${paragraphs.map((p) => `<w:p><w:r><w:t>${xml(p)}</w:t></w:r></w:p>`).join('')}</w:body></w:document>`,
    ],
  ];
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, content] of parts) {
    const data = Buffer.from(content, 'utf8');
    const nameBytes = Buffer.from(name, 'utf8');
    const crc = zlib.crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(parts.length, 8);
  end.writeUInt16LE(parts.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

describe('chunking', () => {
  it('keeps paragraphs whole, packs them to about 1000 characters and repeats the end of each chunk at the start of the next', () => {
    const paragraphs = Array.from({ length: 12 }, (_, i) => `Paragraph ${i} starts here. ${'word '.repeat(40).trim()}. Paragraph ${i} ends here.`);
    const chunks = chunkText(paragraphs.join('\n\n'));
    expect(chunks.length).toBeGreaterThan(2);
    for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(1500);
    // Every paragraph is found whole in some chunk.
    for (const p of paragraphs) expect(chunks.some((c) => c.includes(p))).toBe(true);
    for (let i = 1; i < chunks.length; i++) {
      const previousEnd = chunks[i - 1].split(/(?<=\.)\s+/).pop()!;
      expect(chunks[i].startsWith(previousEnd)).toBe(true);
    }
  });

  it('cuts an overlong paragraph between sentences, and a run without spaces hard', () => {
    const sentences = Array.from({ length: 60 }, (_, i) => `Sentence number ${i} says something.`);
    const chunks = chunkText(sentences.join(' '));
    expect(chunks.length).toBeGreaterThan(1);
    for (const s of sentences) expect(chunks.some((c) => c.includes(s))).toBe(true);
    const blob = chunkText('x'.repeat(4000));
    expect(blob.every((c) => c.length <= 1500)).toBe(true);
    expect(blob.join('').replace(/\s/g, '').length).toBeGreaterThanOrEqual(4000);
  });

  it('starts a chunk at a Markdown heading once the current one is half full', () => {
    const chunks = chunkText(bakeryFaq);
    expect(chunks.filter((c) => c.startsWith('## ')).map((c) => c.split('\n')[0])).toEqual(['## Delivery', '## Allergies', '## Returns']);
    expect(chunkText('')).toEqual([]);
  });

  it('searches words as they are spelt, in any script: accents and Hebrew points dropped, Hebrew prefix letters too', () => {
    expect(searchableText('“Café” — open—late! בְּשַׁבָּת')).toBe('cafe open late בשבת שבת');
    expect(queryTerms('What are the opening hours on Saturday?')).toEqual(["'open':*", "'hour':*", "'saturday':*"]);
    expect(queryTerms('מתי אתם פתוחים בשישי?')).toEqual(["'פתוחים':*", "'בשישי':* | 'שישי':*"]);
    expect(queryTerms('the of a')).toEqual([]);
  });
});

describe('/api/knowledge-base', () => {
  it('indexes PDF, DOCX, text, Markdown, HTML and CSV documents, and finds each one’s passage for a question', async () => {
    const account = await signedInAccount(stack);
    const files: Array<{ name: string; data: Buffer | string; type: string; question: string; expect: string }> = [
      { name: 'prices.pdf', data: tinyPdf(['Sunrise Bakery price list', 'Sourdough loaf 6 USD', 'Croissant 3 USD']), type: 'application/pdf', question: 'How much is a sourdough loaf?', expect: 'Sourdough loaf 6 USD' },
      { name: 'policy.docx', data: tinyDocx(['Refund policy', 'Unopened jars of jam can be refunded within 30 days.']), type: 'application/octet-stream', question: 'Can I get a refund for jam?', expect: 'Unopened jars of jam can be refunded within 30 days.' },
      { name: 'parking.txt', data: 'Parking\n\nCustomers park free of charge behind the bakery, entrance from Olive Street.', type: 'text/plain', question: 'Where do I park?', expect: 'entrance from Olive Street' },
      { name: 'faq.md', data: bakeryFaq, type: 'text/markdown', question: 'Are you open on Saturday?', expect: 'On Saturday the bakery is closed.' },
      {
        name: 'catering.html',
        data: '<!doctype html><html><head><title>Catering</title><style>.x{color:red}</style><script>var secret = "zebra";</script></head><body><h1>Catering</h1><p>We cater weddings &amp; birthdays for up to 200 guests.</p></body></html>',
        type: 'text/html',
        question: 'Do you cater weddings?',
        expect: 'We cater weddings & birthdays for up to 200 guests.',
      },
      { name: 'branches.csv', data: 'branch,city,phone\nNorth,Haifa,04-5550101\nSouth,Beersheba,08-5550202\n', type: 'text/csv', question: 'phone number of the Haifa branch', expect: 'North,Haifa,04-5550101' },
    ];
    const docs = new Map<string, DocumentView>();
    for (const f of files) {
      const doc = await addAndIndex(account, f.data, f.name, f.type);
      expect(doc).toMatchObject({ status: 'ready', stage: 'done', progress: 100, searchable: true, error: null, embeddingModel: null });
      expect(doc.chunkCount).toBeGreaterThan(0);
      docs.set(f.name, doc);
    }
    for (const f of files) {
      const result = await search(account, f.question);
      expect(result.mode).toBe('fulltext');
      expect(result.hits[0]).toMatchObject({ documentId: docs.get(f.name)!.id, documentName: f.name });
      expect(result.hits[0].text).toContain(f.expect);
      expect(result.hits[0].score).toBeGreaterThan(0);
      expect(result.hits[0].score).toBeLessThanOrEqual(1);
    }
    // HTML is read as a reader sees it: scripts and styles are not text.
    expect((await search(account, 'zebra')).hits).toEqual([]);
    const listed = (await account.agent.get('/api/knowledge-base')).body.documents as Array<{ name: string; contentType: string }>;
    expect(Object.fromEntries(listed.map((d) => [d.name, d.contentType]))).toEqual({
      'prices.pdf': 'application/pdf',
      'policy.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      'parking.txt': 'text/plain',
      'faq.md': 'text/markdown',
      'catering.html': 'text/html',
      'branches.csv': 'text/csv',
    });
  });

  it('returns the passage that answers the question, not merely one that shares a word with it', async () => {
    const account = await signedInAccount(stack);
    const faq = await addAndIndex(account, bakeryFaq, 'faq.md');
    expect(faq.chunkCount).toBe(4);
    const delivery = await search(account, 'How much does delivery cost?');
    expect(delivery.hits[0].text).toContain('A delivery costs 15 shekels');
    // "delivery" is in two sections (returns mention it); "cost" only in one, so that one wins.
    expect(delivery.hits.map((h) => h.text.split('\n')[0])).toEqual(expect.arrayContaining(['## Delivery', '## Returns']));
    expect(delivery.hits[0].score).toBeGreaterThan(delivery.hits[1].score);
    expect((await search(account, 'Is there sesame in the bread?')).hits[0].text).toContain('nuts, sesame and gluten');
    expect((await search(account, 'my cake arrived damaged')).hits[0].text).toContain('replaced the same day');
    expect((await search(account, 'kangaroo')).hits).toEqual([]);
    expect((await search(account, 'Do you deliver', 1)).hits).toHaveLength(1);
  });

  it('searches Hebrew documents, with or without prefix letters and points', async () => {
    const account = await signedInAccount(stack);
    const doc = await addAndIndex(account, 'שעות הפתיחה שלנו\n\nביום שישי אנחנו פתוחים עד השעה 14:00. בְּשַׁבָּת החנות סגורה.\n\nמשלוחים\n\nמשלוח עולה 15 שקלים.', 'שעות.txt');
    const friday = await search(account, 'מתי אתם פתוחים בשישי?');
    expect(friday.hits[0]).toMatchObject({ documentId: doc.id, documentName: 'שעות.txt' });
    expect(friday.hits[0].text).toContain('ביום שישי אנחנו פתוחים');
    expect((await search(account, 'שבת')).hits[0].text).toContain('בְּשַׁבָּת החנות סגורה');
  });

  it('embeds the chunks with the account’s provider, records the usage, and searches by full text and meaning together', async () => {
    const account = await signedInAccount(stack);
    await useSimulator(account);
    const doc = await addAndIndex(account, bakeryFaq, 'faq.md');
    expect(doc).toMatchObject({ status: 'ready', embeddingModel: 'text-embedding-3-small', embeddingError: null, chunkCount: 4, chunksEmbedded: 4 });

    // One embeddings call for the document's four chunks, through the openai client, recorded as usage.
    const calls = await ai.requests('/v1/embeddings');
    expect(calls).toHaveLength(1);
    const chunks = await sql<{ text: string; dims: number; norm: number }>(
      `select text, array_length(embedding, 1) as dims, sqrt((select sum(v * v) from unnest(embedding) v)) as norm from knowledge_chunks where document_id = ? order by chunk_index`,
      [doc.id],
    );
    expect((calls[0].body as { input: string[] }).input).toEqual(chunks.map((c) => c.text));
    expect(chunks.every((c) => c.dims === 256 && Math.abs(c.norm - 1) < 1e-4)).toBe(true);
    const usage = await sql<{ purpose: string; model: string; prompt_tokens: number; completion_tokens: number; reference: string; provider_name: string }>(
      `select purpose, model, prompt_tokens, completion_tokens, reference, provider_name from ai_usage where tenant_id = ?`,
      [account.user.tenantId],
    );
    expect(usage).toEqual([
      {
        purpose: 'embeddings',
        model: 'text-embedding-3-small',
        prompt_tokens: chunks.reduce((sum, c) => sum + Math.ceil(c.text.length / 4), 0),
        completion_tokens: 0,
        reference: `knowledge/${doc.id}`,
        provider_name: 'Simulator',
      },
    ]);

    const result = await search(account, 'Are you open on Saturday?');
    expect(result.mode).toBe('hybrid');
    expect(result.hits[0].text).toContain('On Saturday the bakery is closed.');
    const queryCalls = (await ai.requests('/v1/embeddings')).slice(1);
    expect(queryCalls.map((c) => (c.body as { input: string[] | string }).input)).toEqual([['Are you open on Saturday?']]);
    const purposes = await sql<{ reference: string }>(`select reference from ai_usage where tenant_id = ? order by created_at`, [account.user.tenantId]);
    expect(purposes.map((p) => p.reference)).toEqual([`knowledge/${doc.id}`, 'knowledge/search']);

    // By meaning alone: a query with no searchable word still finds the passage closest to its embedding.
    const em = stack.orm.em.fork();
    const byMeaning = await searchKnowledge(em, { tenantId: account.user.tenantId, query: 'what?', queryEmbedding: embed('sesame nuts gluten traces', 256) });
    expect(byMeaning[0].text).toContain('nuts, sesame and gluten');
    expect(await searchKnowledge(em, { tenantId: account.user.tenantId, query: 'what?' })).toEqual([]);
    // A vector of another model's size is ignored rather than compared.
    const otherModel = await searchKnowledge(em, { tenantId: account.user.tenantId, query: 'sesame', queryEmbedding: embed('sesame', 64) });
    expect(otherModel[0].text).toContain('nuts, sesame and gluten');
  });

  it('reports progress while it embeds, batch by batch', async () => {
    const account = await signedInAccount(stack);
    await useSimulator(account);
    await ai.configure({ latencyMs: 600 });
    const paragraphs = Array.from({ length: 150 }, (_, i) => `Topic ${i}. ${`Detail ${i} about the bakery and its breads. `.repeat(20).trim()}`);
    const res = await addFile(account, paragraphs.join('\n\n'), 'long.txt');
    expect(res.status).toBe(202);
    expect(res.body.document).toMatchObject({ status: 'queued', progress: 0, searchable: false });
    const seen: Array<{ status: string; stage: string | null; progress: number; chunksEmbedded: number }> = [];
    await eventually(async () => {
      const doc = (await documentOf(account, res.body.document.id))!;
      seen.push({ status: doc.status, stage: doc.stage, progress: doc.progress, chunksEmbedded: doc.chunksEmbedded });
      return doc.status === 'ready' ? doc : undefined;
    }, 'the long document indexed', 30_000);
    const midway = seen.filter((s) => s.status === 'indexing' && s.stage === 'embedding' && s.progress > 30 && s.progress < 100);
    expect(midway.length).toBeGreaterThan(0);
    expect(midway.some((s) => s.chunksEmbedded > 0 && s.chunksEmbedded < 150)).toBe(true);
    const progress = seen.map((s) => s.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(seen.at(-1)).toMatchObject({ status: 'ready', stage: 'done', progress: 100, chunksEmbedded: 150 });
    expect(await ai.requests('/v1/embeddings')).toHaveLength(3);
  });

  it('keeps a document searchable by full text when its embeddings fail', async () => {
    const account = await signedInAccount(stack);
    await useSimulator(account, 'sk-wrong-key-0000');
    const doc = await addAndIndex(account, bakeryFaq, 'faq.md');
    expect(doc).toMatchObject({ status: 'ready', searchable: true, embeddingModel: null, chunksEmbedded: 0 });
    expect(doc.embeddingError).toMatch(/refused the API key \(401\)/);
    const result = await search(account, 'Are you open on Saturday?');
    expect(result.mode).toBe('fulltext');
    expect(result.hits[0].text).toContain('On Saturday the bakery is closed.');
  });

  it('re-indexes a document, e.g. to embed it once a provider is set, replacing its chunks', async () => {
    const account = await signedInAccount(stack);
    const doc = await addAndIndex(account, bakeryFaq, 'faq.md');
    expect(doc.embeddingModel).toBeNull();
    const before = await sql<{ id: string }>(`select id from knowledge_chunks where document_id = ?`, [doc.id]);

    await useSimulator(account);
    const res = await account.agent.post('/api/knowledge-base').send({ reindex: doc.id });
    expect(res.status).toBe(202);
    expect(res.body.document).toMatchObject({ id: doc.id, status: 'queued', progress: 0, searchable: true });
    const again = await eventually(async () => {
      const d = await documentOf(account, doc.id);
      return d?.status === 'ready' && d.embeddingModel ? d : undefined;
    }, 're-indexed with embeddings');
    expect(again).toMatchObject({ chunkCount: 4, chunksEmbedded: 4, embeddingModel: 'text-embedding-3-small' });
    const after = await sql<{ id: string; run_id: string }>(`select id, run_id from knowledge_chunks where document_id = ?`, [doc.id]);
    expect(after).toHaveLength(4);
    expect(new Set(after.map((c) => c.run_id)).size).toBe(1);
    expect(after.some((c) => before.some((b) => b.id === c.id))).toBe(false);
    expect((await search(account, 'Are you open on Saturday?')).mode).toBe('hybrid');
  });

  it('adds an uploaded file by its id, once', async () => {
    const account = await signedInAccount(stack);
    const uploaded = await account.agent.post('/api/upload').attach('file', Buffer.from('Gift cards are sold at the counter.'), { filename: 'gifts.txt', contentType: 'text/plain' });
    expect(uploaded.status).toBe(201);
    const res = await account.agent.post('/api/knowledge-base').send({ uploadId: uploaded.body.file.id, name: 'Gift cards' });
    expect(res.status).toBe(202);
    expect(res.body.document).toMatchObject({ name: 'Gift cards', contentType: 'text/plain', uploadId: uploaded.body.file.id });
    await indexed(account, res.body.document.id);
    expect((await search(account, 'gift card')).hits[0]).toMatchObject({ documentName: 'Gift cards' });
    const twice = await account.agent.post('/api/knowledge-base').send({ uploadId: uploaded.body.file.id });
    expect(twice.status).toBe(409);
    expect(twice.body.error).toBe(`This file is in the knowledge base already, as document ${res.body.document.id}`);
  });

  it('deletes a document with its chunks and its file, by id in the query or the body', async () => {
    const account = await signedInAccount(stack);
    const first = await addAndIndex(account, bakeryFaq, 'faq.md');
    const second = await addAndIndex(account, 'Parking is free behind the bakery.', 'parking.txt');
    const file = path.join(stack.deps.config.dataDir, 'uploads', account.user.tenantId, first.uploadId!);
    expect(fs.existsSync(file)).toBe(true);

    const res = await account.agent.delete('/api/knowledge-base').query({ id: first.id });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true, message: 'Document deleted' });
    expect(await documentOf(account, first.id)).toBeUndefined();
    expect(await sql(`select 1 from knowledge_chunks where document_id = ?`, [first.id])).toEqual([]);
    expect(await sql(`select 1 from uploads where id = ?`, [first.uploadId])).toEqual([]);
    expect(fs.existsSync(file)).toBe(false);
    expect((await account.agent.get(`/api/upload/${first.uploadId}`)).status).toBe(404);
    expect((await search(account, 'Are you open on Saturday?')).hits).toEqual([]);

    expect((await account.agent.delete('/api/knowledge-base').send({ id: second.id })).status).toBe(200);
    expect((await account.agent.get('/api/knowledge-base')).body.documents).toEqual([]);
    const again = await account.agent.delete('/api/knowledge-base').query({ id: second.id });
    expect(again.status).toBe(404);
    expect(again.body).toEqual({ error: 'Document not found' });
  });

  it('stops the indexing of a document deleted midway, leaving nothing of it', async () => {
    const account = await signedInAccount(stack);
    await useSimulator(account);
    await ai.configure({ latencyMs: 600 });
    const paragraphs = Array.from({ length: 150 }, (_, i) => `Topic ${i}. ${`Detail ${i} about the bakery and its breads. `.repeat(20).trim()}`);
    const res = await addFile(account, paragraphs.join('\n\n'), 'long.txt');
    const id = res.body.document.id as string;
    await eventually(async () => (await documentOf(account, id))?.stage === 'embedding', 'embedding under way');
    expect((await account.agent.delete('/api/knowledge-base').query({ id })).status).toBe(200);
    const run = await stack.temporal.client.workflow.getHandle(knowledgeWorkflowId(account.user.tenantId, id)).describe();
    expect(run.status.name).toBe('TERMINATED');
    expect(await sql(`select 1 from knowledge_chunks where document_id = ?`, [id])).toEqual([]);
  });

  it('marks a file that cannot be read as failed, saying why', async () => {
    const account = await signedInAccount(stack);
    const doc = await addAndIndex(account, Buffer.from('%PDF-1.4\nthis is not really a PDF'), 'broken.pdf');
    expect(doc).toMatchObject({ status: 'failed', searchable: false, chunkCount: 0 });
    expect(doc.error).toMatch(/^not a readable PDF/);
    const empty = await addAndIndex(account, '   \n\n  ', 'blank.txt');
    expect(empty).toMatchObject({ status: 'failed', error: 'the document has no text' });
  });

  it('answers 4xx to bad requests', async () => {
    const account = await signedInAccount(stack);
    const none = await account.agent.post('/api/knowledge-base').send({});
    expect(none.status).toBe(400);
    expect(none.body.error).toBe('Invalid body: give exactly one of file, uploadId and reindex');
    const both = await account.agent.post('/api/knowledge-base').send({ uploadId: '00000000-0000-4000-8000-000000000000', reindex: '00000000-0000-4000-8000-000000000001' });
    expect(both.status).toBe(400);
    expect(both.body.error).toBe('Invalid body: give exactly one of file, uploadId and reindex (got uploadId, reindex)');
    expect((await account.agent.post('/api/knowledge-base').send({ uploadId: 'nope' })).status).toBe(400);
    expect((await account.agent.post('/api/knowledge-base').send({ uploadId: '00000000-0000-4000-8000-000000000000' })).status).toBe(404);
    expect((await account.agent.post('/api/knowledge-base').send({ reindex: '00000000-0000-4000-8000-000000000000' })).status).toBe(404);

    const image = await addFile(account, tinyPng(), 'photo.png', 'image/png');
    expect(image.status).toBe(415);
    expect(image.body.error).toMatch(/^file: image\/png files are not accepted; accepted: application\/pdf, /);
    expect(await sql(`select 1 from uploads where tenant_id = ?`, [account.user.tenantId])).toEqual([]);
    const pictureUpload = await account.agent.post('/api/upload').attach('file', tinyPng(), 'photo.png');
    const picture = await account.agent.post('/api/knowledge-base').send({ uploadId: pictureUpload.body.file.id });
    expect(picture.status).toBe(415);
    expect(picture.body.error).toBe('image/png files cannot be indexed: add a PDF, DOCX, text, Markdown, HTML or CSV file');

    expect((await account.agent.delete('/api/knowledge-base')).status).toBe(400);
    expect((await account.agent.get('/api/knowledge-base').query({ q: 'x'.repeat(1001) })).status).toBe(400);
    expect((await account.agent.get('/api/knowledge-base').query({ q: 'bread', limit: 0 })).status).toBe(400);
    expect((await stack.http().get('/api/knowledge-base')).status).toBe(401);
  });

  it('keeps each account’s knowledge base to itself', async () => {
    const owner = await signedInAccount(stack);
    const outsider = await signedInAccount(stack);
    const doc = await addAndIndex(owner, bakeryFaq, 'faq.md');
    await addAndIndex(outsider, 'Our own opening hours: Saturday 10:00 to 12:00.', 'other.txt');

    expect(((await outsider.agent.get('/api/knowledge-base')).body.documents as DocumentView[]).map((d) => d.id)).not.toContain(doc.id);
    const hits = (await search(outsider, 'Are you open on Saturday?')).hits;
    expect(hits.map((h) => h.documentName)).toEqual(['other.txt']);
    expect(await searchKnowledge(stack.orm.em.fork(), { tenantId: outsider.user.tenantId, query: 'sesame gluten' })).toEqual([]);

    for (const res of [
      await outsider.agent.delete('/api/knowledge-base').query({ id: doc.id }),
      await outsider.agent.delete('/api/knowledge-base').send({ id: doc.id }),
      await outsider.agent.post('/api/knowledge-base').send({ reindex: doc.id }),
      await outsider.agent.post('/api/knowledge-base').send({ uploadId: doc.uploadId }),
      await outsider.agent.get(`/api/upload/${doc.uploadId}`),
    ]) {
      expect(res.status).toBe(404);
      expect(typeof res.body.error).toBe('string');
    }
    expect(await documentOf(owner, doc.id)).toMatchObject({ status: 'ready', chunkCount: 4 });
    expect((await search(owner, 'sesame')).hits[0].documentId).toBe(doc.id);
  });
});
