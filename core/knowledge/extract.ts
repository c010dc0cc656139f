import { Worker } from 'node:worker_threads';
import { convert } from 'html-to-text';
import mammoth from 'mammoth';
import { decodeText, docxType, isIndexable } from '../uploads/file-type';

/**
 * The text of a knowledge-base document, by its (sniffed) type. Failures are `UnreadableDocument`s whose
 * message says what is wrong with the file, shown to the user as the document's error.
 */

export class UnreadableDocument extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnreadableDocument';
  }
}

/** About half a million tokens: more than any FAQ or manual, and a bound on what one document costs to embed. */
export const maxIndexedChars = 2_000_000;

/**
 * PDF.js (through unpdf) is an ES module jest's CommonJS runtime cannot load, so it runs in a worker thread,
 * which also keeps a hostile or huge PDF away from the worker process: its own heap limit, and a deadline.
 */
const pdfWorkerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { extractText, getDocumentProxy } = require(workerData.unpdfPath);
(async () => {
  const pdf = await getDocumentProxy(new Uint8Array(workerData.bytes), { isEvalSupported: false });
  const { text } = await extractText(pdf, { mergePages: false });
  parentPort.postMessage({ ok: true, pages: text });
})().catch((err) => parentPort.postMessage({ ok: false, error: String((err && err.message) || err) }));
`;

async function pdfPages(data: Buffer, timeoutMs: number): Promise<string[]> {
  const worker = new Worker(pdfWorkerSource, {
    eval: true,
    workerData: { unpdfPath: require.resolve('unpdf'), bytes: data },
    resourceLimits: { maxOldGenerationSizeMb: 512 },
  });
  try {
    const result = await new Promise<{ ok: true; pages: string[] } | { ok: false; error: string }>((resolve) => {
      const timer = setTimeout(() => resolve({ ok: false, error: `took longer than ${timeoutMs / 1000} s to read` }), timeoutMs);
      worker.once('message', (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      worker.once('error', (err) => {
        clearTimeout(timer);
        resolve({ ok: false, error: err.message });
      });
    });
    if (!result.ok) throw new UnreadableDocument(`not a readable PDF (${result.error.slice(0, 200)})`);
    return result.pages;
  } finally {
    await worker.terminate();
  }
}

async function docxText(data: Buffer): Promise<string> {
  try {
    return (await mammoth.extractRawText({ buffer: data })).value;
  } catch (err) {
    throw new UnreadableDocument(`not a readable Word document (${String((err as Error).message).slice(0, 200)})`);
  }
}

/** Headings and table headers keep their case (the converter's default shouts them); links and images are dropped. */
const htmlOptions = {
  wordwrap: false as const,
  selectors: [
    ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, options: { uppercase: false } })),
    { selector: 'table', format: 'dataTable', options: { uppercaseHeaderCells: false } },
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
    { selector: 'nav', format: 'skip' },
  ],
};

export interface ExtractedText {
  text: string;
  /** The text was longer than `maxIndexedChars` and was cut. */
  truncated: boolean;
}

export async function extractDocumentText(data: Buffer, contentType: string, opts: { pdfTimeoutMs?: number } = {}): Promise<ExtractedText> {
  if (!isIndexable(contentType)) throw new UnreadableDocument(`${contentType} files have no text to index`);
  let text: string;
  if (contentType === 'application/pdf') text = (await pdfPages(data, opts.pdfTimeoutMs ?? 60_000)).join('\n\n');
  else if (contentType === docxType) text = await docxText(data);
  else {
    const decoded = decodeText(data);
    if (decoded === null) throw new UnreadableDocument('not a text file in UTF-8 or UTF-16');
    text = contentType === 'text/html' ? convert(decoded, htmlOptions) : decoded;
  }
  // PostgreSQL's text cannot hold NUL, and PDF.js leaves some in.
  text = text.replace(/\u0000/g, '').trim();
  if (!text) {
    throw new UnreadableDocument(contentType === 'application/pdf' ? 'the PDF has no text layer (a scanned document?)' : 'the document has no text');
  }
  return { text: text.slice(0, maxIndexedChars), truncated: text.length > maxIndexedChars };
}
