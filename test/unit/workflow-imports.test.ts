import fs from 'node:fs';
import path from 'node:path';

const root = path.join(__dirname, '..', '..', 'workflows');

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(full) : e.name.endsWith('.ts') ? [full] : [];
  });
}

/**
 * Workflow code is replayed, so it must not reach the world: it may import @temporalio/workflow, other
 * workflow files, and types (which vanish at compile time) — nothing else.
 */
export function forbiddenImports(source: string): string[] {
  const bad: string[] = [];
  for (const m of source.matchAll(/^\s*import\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
    const [, typeOnly, spec] = m;
    if (typeOnly) continue;
    if (spec === '@temporalio/workflow' || spec.startsWith('@temporalio/common')) continue;
    if (spec.startsWith('.') && !spec.includes('/activities') && !spec.includes('/core/db') && !spec.includes('/api/')) continue;
    bad.push(spec);
  }
  for (const m of source.matchAll(/require\(\s*['"]([^'"]+)['"]\s*\)/g)) bad.push(m[1]);
  return bad;
}

describe('workflow files', () => {
  it('recognises an I/O import as forbidden and a type import as allowed', () => {
    expect(forbiddenImports(`import fs from 'node:fs';\nimport { sleep } from '@temporalio/workflow';`)).toEqual(['node:fs']);
    expect(forbiddenImports(`import type { Activities } from '../../activities';`)).toEqual([]);
    expect(forbiddenImports(`import { createActivities } from '../../activities';`)).toEqual(['../../activities']);
  });

  it.each(filesUnder(root).map((f) => [path.relative(root, f), f]))('%s imports nothing but workflow code and types', (_name, file) => {
    expect(forbiddenImports(fs.readFileSync(file, 'utf8'))).toEqual([]);
  });
});
