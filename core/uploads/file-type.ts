import { sniffFileType } from '../ai/documents';

/**
 * What a file is, judged by its bytes: a client's Content-Type and file name are only trusted to tell kinds of
 * text apart (Markdown from plain text), never to let a binary file pass as something else.
 */

export const docxType = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

/** Types the knowledge base can read the text of. */
export const indexableTypes = ['application/pdf', docxType, 'text/plain', 'text/markdown', 'text/html', 'text/csv'] as const;
export type IndexableType = (typeof indexableTypes)[number];

export const isIndexable = (type: string): type is IndexableType => (indexableTypes as readonly string[]).includes(type);

const textTypeByExtension: Record<string, string> = {
  md: 'text/markdown',
  markdown: 'text/markdown',
  html: 'text/html',
  htm: 'text/html',
  csv: 'text/csv',
  txt: 'text/plain',
  text: 'text/plain',
};

/** A ZIP's entry names are stored in clear in its headers; a Word document has word/document.xml. */
const isDocx = (data: Buffer): boolean =>
  data.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04])) && data.includes('word/document.xml', 0, 'latin1');

/** The text of a file that is text: UTF-8 (a BOM is dropped) or UTF-16 with its BOM; null for anything else. */
export function decodeText(data: Buffer): string | null {
  let text: string;
  try {
    if (data[0] === 0xff && data[1] === 0xfe) text = new TextDecoder('utf-16le', { fatal: true }).decode(data.subarray(2));
    else if (data[0] === 0xfe && data[1] === 0xff) text = new TextDecoder('utf-16be', { fatal: true }).decode(data.subarray(2));
    else text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(data);
  } catch {
    return null;
  }
  // Control characters other than tab and line breaks mean a binary format that happens to decode.
  return /[\u0000-\u0008\u000e-\u001f\u007f]/.test(text) ? null : text;
}

/** The media type of an uploaded file, or null when it is none FlowBot knows. */
export function detectFileType(data: Buffer, hints: { filename?: string; declaredType?: string } = {}): string | null {
  const binary = sniffFileType(data);
  if (binary) return binary;
  if (isDocx(data)) return docxType;
  const text = decodeText(data);
  if (text === null) return null;
  const extension = /\.([a-z0-9]+)$/i.exec(hints.filename ?? '')?.[1]?.toLowerCase();
  if (extension && textTypeByExtension[extension]) return textTypeByExtension[extension];
  const declared = (hints.declaredType ?? '').split(';')[0].trim().toLowerCase();
  if (Object.values(textTypeByExtension).includes(declared)) return declared;
  return /^\s*(<!doctype html|<html[\s>])/i.test(text) ? 'text/html' : 'text/plain';
}
