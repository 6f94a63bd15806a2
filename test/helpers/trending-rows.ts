// Interaction rows made straight in SQL (users, likes, comments, views, follows, memberships, viewer
// states), following the community migrations, for the tests of trending and feeds: they read these
// tables, which other modules write.
import { sql } from 'kysely';
import { uuidv7 } from 'uuidv7';
import type { TestApp } from './app.ts';

const HOUR = 3600_000;
export const hoursAgo = (h: number) => new Date(Date.now() - h * HOUR);

let made = 0;

/** `n` active accounts (no password anyone knows); answers their ids. */
export async function insertUsers(t: TestApp, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = uuidv7();
    const name = `fan${process.pid}x${++made}`;
    await sql`insert into users (id, username, email, password_hash, display_name)
      values (${id}, ${name}, ${`${name}@example.test`}, 'x', ${name})`.execute(t.app.database.db);
    ids.push(id);
  }
  return ids;
}

/** A like of the video by each of `userIds`, made at `at`. */
export async function insertLikes(t: TestApp, videoId: string, userIds: string[], at = new Date()) {
  for (const userId of userIds) {
    await sql`insert into likes (target_type, target_id, user_id, video_id, target_owner_id, created_at)
      select 'video', id, ${userId}, id, owner_id, ${at} from videos where id = ${videoId}`.execute(
      t.app.database.db,
    );
  }
}

/** `n` comments on the video by `authorId`, made at `at`. */
export async function insertComments(
  t: TestApp,
  videoId: string,
  authorId: string,
  n: number,
  at = new Date(),
) {
  for (let i = 0; i < n; i++) {
    await sql`insert into comments (id, video_id, author_id, body, created_at)
      values (${uuidv7()}, ${videoId}, ${authorId}, ${`comment ${i}`}, ${at})`.execute(t.app.database.db);
  }
}

/** `n` views of the video on the UTC day `daysAgo` days before today (and in its totals). */
export async function insertViews(t: TestApp, videoId: string, n: number, daysAgo = 0) {
  const db = t.app.database.db;
  await sql`insert into video_views_daily (video_id, day, member, non_member)
    values (${videoId}, (now() at time zone 'UTC')::date - ${daysAgo}::int, 0, ${n})
    on conflict (video_id, day) do update set non_member = video_views_daily.non_member + excluded.non_member`.execute(
    db,
  );
  await sql`insert into video_stats (video_id, views_non_member) values (${videoId}, ${n})
    on conflict (video_id) do update set views_non_member = video_stats.views_non_member + excluded.views_non_member`.execute(
    db,
  );
}

export async function setPublishedAt(t: TestApp, videoId: string, at: Date) {
  await sql`update videos set published_at = ${at} where id = ${videoId}`.execute(t.app.database.db);
}

export async function insertFollow(t: TestApp, followerId: string, followeeId: string) {
  await sql`insert into follows (follower_id, followee_id) values (${followerId}, ${followeeId})`.execute(
    t.app.database.db,
  );
}

/** A membership of `userId` in the channel of `ownerId` (tier 1: a subscriber). */
export async function insertMembership(t: TestApp, ownerId: string, userId: string, tier: 1 | 2 = 1) {
  await sql`insert into channel_memberships (channel_id, user_id, tier)
    select id, ${userId}, ${tier} from channels where owner_id = ${ownerId}`.execute(t.app.database.db);
}

/** The viewer watched the video (viewer_states as the viewing module keeps it). */
export async function insertWatched(t: TestApp, userId: string, videoId: string, at = new Date()) {
  await sql`insert into viewer_states (user_id, video_id, progress_s, watched_at)
    values (${userId}, ${videoId}, 30, ${at})
    on conflict (user_id, video_id) do update set watched_at = excluded.watched_at`.execute(
    t.app.database.db,
  );
}

/** The viewer liked the video: the likes row, and viewer_states as the viewing module projects it. */
export async function insertLiked(t: TestApp, userId: string, videoId: string, at = new Date()) {
  await insertLikes(t, videoId, [userId], at);
  await sql`insert into viewer_states (user_id, video_id, liked, liked_at)
    values (${userId}, ${videoId}, true, ${at})
    on conflict (user_id, video_id) do update set liked = true, liked_at = excluded.liked_at`.execute(
    t.app.database.db,
  );
}

/** Runs the hourly recomputation now, as its cron job would. */
export async function recomputeTrending(t: TestApp) {
  const job = t.app.jobs.get('trending.recompute');
  if (!job) throw new Error('trending.recompute is not registered');
  return job.handler({}, { jobId: '0', attempts: 1, maxAttempts: 1, signal: new AbortController().signal });
}
