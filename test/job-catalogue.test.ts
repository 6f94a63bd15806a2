// A job that code can enqueue but no module handles fails the boot, with a sentence naming it; it
// would otherwise fail only when it first ran, on some worker, later.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { declareJob } from '../src/platform/jobs/catalogue.ts';
import { JobRegistryError } from '../src/platform/jobs/definition.ts';
import { startTestApp } from './helpers/app.ts';

describe('the job catalogue', () => {
  it('starts when every declared job has a handler', async () => {
    const t = await startTestApp({}, { role: 'api' });
    assert.ok(t.app.jobs.get('transcoding.process_video'), 'processing has its handler');
    await t.stop();
  });

  it('refuses to boot when a declared job has no handler', async () => {
    // Declared as a module would, beside the code that enqueues it, with its handler forgotten.
    declareJob({ name: 'reports.send_digest', payload: z.object({ userId: z.uuid() }) });
    await assert.rejects(
      startTestApp({}, { role: 'api' }),
      (err: unknown) =>
        err instanceof JobRegistryError &&
        /no handler for job "reports\.send_digest"/.test(err.message) &&
        !err.message.includes('\n'),
    );
  });
});
