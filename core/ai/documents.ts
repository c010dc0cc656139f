import { readPdfPages, UnreadablePdf } from '../documents/pdf';
import { AppError } from '../errors';

/**
 * Files given to flow generation: what they are (by their first bytes, not by what the client says), and
 * a PDF's text.
 */

export const imageTypes = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const;
export type ImageType = (typeof imageTypes)[number];
export type GenerationFileType = 'application/pdf' | ImageType;

export function sniffFileType(data: Buffer): GenerationFileType | null {
  const starts = (...bytes: number[]) => bytes.every((b, i) => data[i] === b);
  if (data.subarray(0, 5).toString('latin1') === '%PDF-') return 'application/pdf';
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'image/png';
  if (starts(0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (data.subarray(0, 6).toString('latin1') === 'GIF87a' || data.subarray(0, 6).toString('latin1') === 'GIF89a') return 'image/gif';
  if (data.subarray(0, 4).toString('latin1') === 'RIFF' && data.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  return null;
}

/** Text beyond this is cut: about 15 000 tokens, plenty to design a flow from. */
export const maxDocumentChars = 60_000;

export interface ExtractedPdf {
  pages: number;
  text: string;
  truncated: boolean;
}

/** A PDF's text, or a 400 that says why there is none (unreadable, or scanned without a text layer). */
export async function extractPdfText(data: Buffer, opts: { timeoutMs?: number } = {}): Promise<ExtractedPdf> {
  let pages: string[];
  try {
    pages = await readPdfPages(data, { timeoutMs: opts.timeoutMs ?? 20_000, maxHeapMb: 256 });
  } catch (err) {
    if (err instanceof UnreadablePdf) throw new AppError('invalid', `file: ${err.message}`);
    throw err;
  }
  const text = pages.join('\n').trim();
  if (!text) throw new AppError('invalid', 'file: the PDF has no text (a scanned document?): send the pages as an image, or put the text in the prompt');
  return { pages: pages.length, text: text.slice(0, maxDocumentChars), truncated: text.length > maxDocumentChars };
}
