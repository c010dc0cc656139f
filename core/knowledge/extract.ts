import { convert } from 'html-to-text';
import mammoth from 'mammoth';
import { readPdfPages, UnreadablePdf } from '../documents/pdf';
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

async function pdfText(data: Buffer, timeoutMs: number): Promise<string> {
  try {
    return (await readPdfPages(data, { timeoutMs, maxHeapMb: 512 })).join('\n\n');
  } catch (err) {
    if (err instanceof UnreadablePdf) throw new UnreadableDocument(err.message);
    throw err;
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
  if (contentType === 'application/pdf') text = await pdfText(data, opts.pdfTimeoutMs ?? 60_000);
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
