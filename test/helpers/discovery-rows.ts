// Catalog rows made straight in SQL, for tests of lists (search, recommendations) that need many videos
// in many states without running the pipeline for each. One test per list still uploads a real video.
import { sql } from 'kysely';
import { uuidv7 } from 'uuidv7';
import { videoUnpublished } from '../../src/modules/videos/index.ts';
import { emit } from '../../src/platform/events/emit.ts';
import type { TestApp } from './app.ts';
import { mediaInfo } from './media-info.ts';

export interface VideoRowInput {
  title: string;
  description?: string;
  tags?: string[];
  category?: string | null;
  durationS?: number;
  accessTier?: 0 | 1 | 2;
  visibility?: 'public' | 'unlisted' | 'private';
  publication?: 'draft' | 'scheduled' | 'published' | 'unpublished' | 'rejected';
  hidden?: boolean;
  createdAt?: Date;
}

/**
 * A processed video of `ownerId`, published and public unless told otherwise; answers its id. Its media
 * facts are whole, so `GET /api/v1/videos/{id}` answers it too.
 */
export async function insertVideo(t: TestApp, ownerId: string, v: VideoRowInput): Promise<string> {
  const id = uuidv7();
  const publication = v.publication ?? 'published';
  await sql`insert into videos (id, owner_id, title, description, status, visibility, playback_version,
      media_info, publication, published_at, tags, category, access_tier, hidden, created_at)
    values (${id}, ${ownerId}, ${v.title}, ${v.description ?? ''}, 'ready', ${v.visibility ?? 'public'}, 1,
      ${JSON.stringify(mediaInfo({ durationS: v.durationS ?? 60 }))}::jsonb, ${publication},
      ${publication === 'published' ? new Date() : null}, ${v.tags ?? []}::text[], ${v.category ?? null},
      ${v.accessTier ?? 0}, ${v.hidden ?? false}, ${v.createdAt ?? new Date()})`.execute(t.app.database.db);
  return id;
}

/** Takes a video down as its owner would: the row changes and `video.unpublished` is emitted with it. */
export async function unpublish(t: TestApp, id: string, ownerId: string): Promise<void> {
  await t.app.database.db.transaction().execute(async (tx) => {
    await sql`update videos set publication = 'unpublished' where id = ${id}`.execute(tx);
    await emit(
      tx,
      videoUnpublished.create({
        aggregateId: id,
        payload: { video_id: id, owner_id: ownerId, publication: 'unpublished', reason: null },
      }),
    );
  });
}
