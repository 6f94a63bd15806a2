// Videos in a known state for catalog tests on an app without a worker: uploaded through the API, then
// processed by hand as a run would, and the app's jobs run by the test.
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { MediaInfo } from '../../src/platform/media/media-info.ts';
import type { TestApp } from './app.ts';
import { uploadVideo } from './upload.ts';

export const CLIP_INFO: MediaInfo = {
  container: 'mov,mp4,m4a,3gp,3g2,mj2',
  durationS: 4,
  width: 320,
  height: 240,
  rotation: 0,
  fps: 30,
  videoCodec: 'h264',
  pixelFormat: 'yuv420p',
  bitDepth: 8,
  interlaced: false,
  bitRate: 100_000,
  audio: null,
};

/**
 * A video uploaded by `user` through the API and processed by hand: `ready` (or `playable`) with a
 * segment and a poster in the store; `unprocessed` leaves it uploaded. `upload` is sent with the form.
 */
export async function makeVideo(
  t: TestApp,
  user: { access_token: string },
  state: 'ready' | 'playable' | 'unprocessed' = 'ready',
  upload: { title?: string; publish?: string; publish_at?: string } = {},
): Promise<string> {
  const { videos, store } = t.app;
  const id = await uploadVideo(t, user.access_token, Buffer.alloc(2000, 7), { title: 'Clip', ...upload });
  if (state === 'unprocessed') return id;
  const started = await videos.runs.startProcessing(id);
  assert.ok(started);
  const version = started.media_version;
  await videos.runs.saveMediaInfo(id, CLIP_INFO);
  for (const file of ['hls/master.m3u8', 'hls/240p/seg_00000.m4s', 'images/poster.jpg']) {
    await store.put(`videos/${id}/${version}/${file}`, `${file} of ${id}`);
  }
  if (state === 'ready') await videos.runs.markReady(id, version, []);
  else await videos.runs.markPlayable(id, version);
  return id;
}

/** The catalog events of one video, in order, as the outbox holds them. */
export async function eventsOf(
  t: TestApp,
  id: string,
): Promise<Array<{ type: string; payload: Record<string, unknown> }>> {
  const { rows } = await sql<{ type: string; payload: Record<string, unknown> }>`
    select type, payload from outbox_events where aggregate_id = ${id} and type like 'video.%'
      and type not in ('video.uploaded', 'video.reprocess_requested')
    order by order_txid, position`.execute(t.app.database.db);
  return rows;
}

/** Runs the pending jobs named `name` as a worker would (the app has none), and completes them. */
export async function runJobs(t: TestApp, name: string): Promise<number> {
  const db = t.app.database.db;
  const { rows } = await sql<{ id: string; payload: unknown }>`
    select j.id::text, j.payload from graphile_worker._private_jobs j
      join graphile_worker._private_tasks k on k.id = j.task_id where k.identifier = ${name}`.execute(db);
  const def = t.app.jobs.get(name)!;
  for (const row of rows) {
    await def.handler(def.payload.parse(row.payload), {
      jobId: row.id,
      attempts: 1,
      maxAttempts: 1,
      signal: new AbortController().signal,
    });
    await sql`select graphile_worker.complete_jobs(array[${row.id}::bigint])`.execute(db);
  }
  return rows.length;
}
