// A video row (discovery-rows' insertVideo) with the whole of what ffprobe would have said of its
// source, so that `GET /api/v1/videos/{id}` can answer it: tests of comments and likes read the
// video's counts there without running the pipeline.
import { sql } from 'kysely';
import type { TestApp } from './app.ts';
import { insertVideo, type VideoRowInput } from './discovery-rows.ts';

const MEDIA = {
  container: 'mp4',
  durationS: 60,
  width: 1280,
  height: 720,
  rotation: 0,
  fps: 30,
  videoCodec: 'h264',
  pixelFormat: 'yuv420p',
  bitDepth: 8,
  interlaced: false,
  bitRate: null,
  audio: null,
};

export async function insertWatchableVideo(t: TestApp, ownerId: string, v: VideoRowInput): Promise<string> {
  const id = await insertVideo(t, ownerId, v);
  await sql`update videos set media_info = ${JSON.stringify({ ...MEDIA, durationS: v.durationS ?? 60 })}::jsonb
    where id = ${id}`.execute(t.app.database.db);
  return id;
}
