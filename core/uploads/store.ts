import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../config';
import { Upload } from '../db/entities';
import { AppError, notFound } from '../errors';
import { newId } from '../ids';
import { detectFileType } from './file-type';

/**
 * Uploaded files: a row in `uploads` and the bytes on disk under the configured directory (DATA_DIR/uploads), at a key made
 * of the tenant's and the upload's ids only, so no client-supplied name ever becomes part of a path.
 */

export type UploadLimits = Config['uploads'];

export interface NewUpload {
  tenantId: string;
  userId: string | null;
  filename: string;
  declaredType?: string;
  data: Buffer;
}

/** The client's file name without any directory part or control characters, at most 255 characters. */
export function cleanFilename(name: string): string {
  const base = path.posix.basename(name.replace(/\\/g, '/')).replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return (base || 'file').slice(0, 255);
}

const fileOf = (dir: string, storageKey: string): string => path.join(dir, ...storageKey.split('/'));

/**
 * Checks the file against the limits (a 413 when too large, a 415 when its bytes are of a type not allowed),
 * writes it (to a temporary name first, so a crash never leaves half a file under the real one) and records it.
 */
export async function saveUpload(em: EntityManager, limits: UploadLimits, input: NewUpload): Promise<Upload> {
  if (input.data.length === 0) throw new AppError('invalid', 'file: the file is empty');
  if (input.data.length > limits.maxBytes) throw new AppError('too_large', `file: the file is larger than ${limits.maxBytes} bytes`);
  const filename = cleanFilename(input.filename);
  const contentType = detectFileType(input.data, { filename, declaredType: input.declaredType });
  if (!contentType || !limits.allowedTypes.includes(contentType)) {
    throw new AppError('unsupported_media', `file: ${contentType ? `${contentType} files are not accepted` : 'unrecognised file type'}; accepted: ${limits.allowedTypes.join(', ')}`);
  }
  const id = newId();
  const storageKey = `${input.tenantId}/${id}`;
  const target = fileOf(limits.dir, storageKey);
  await mkdir(path.dirname(target), { recursive: true });
  const temporary = `${target}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, input.data, { mode: 0o600 });
  await rename(temporary, target);
  const upload: Upload = Object.assign(new Upload(), {
    id,
    tenantId: input.tenantId,
    userId: input.userId,
    filename,
    contentType,
    sizeBytes: input.data.length,
    sha256: createHash('sha256').update(input.data).digest('hex'),
    storageKey,
    createdAt: new Date(),
  });
  try {
    await em.insert(Upload, upload);
  } catch (err) {
    await rm(target, { force: true });
    throw err;
  }
  return upload;
}

/** The tenant's upload, or a 404 as if it did not exist. */
export async function findUpload(em: EntityManager, tenantId: string, id: string): Promise<Upload> {
  const upload = await em.findOne(Upload, { id, tenantId });
  if (!upload) throw notFound('File');
  return upload;
}

export function readUploadBytes(limits: Pick<UploadLimits, 'dir'>, upload: Pick<Upload, 'storageKey'>): Promise<Buffer> {
  return readFile(fileOf(limits.dir, upload.storageKey));
}

/** Removes the row and then the bytes; a file already gone is no error. */
export async function deleteUpload(em: EntityManager, limits: Pick<UploadLimits, 'dir'>, upload: Pick<Upload, 'id' | 'storageKey'>): Promise<void> {
  await em.nativeDelete(Upload, { id: upload.id });
  await rm(fileOf(limits.dir, upload.storageKey), { force: true });
}
