// SQL for the view tables (video_stats, video_views_daily, video_view_marks); the only code that writes
// them. Reads videos, channels and channel_memberships, owned by others, never writing them.
import { sql } from 'kysely';
import type { DbOrTx } from '../../platform/db/database.ts';
import type { PendingView } from './view-buffer.ts';

export interface ViewCounts {
  member: number;
  non_member: number;
  total: number;
}

/**
 * Writes a batch in one statement (so all of it or none): a mark per view, inserted, or moved when the
 * viewer's last count for that video is 24 h old or more; only views whose mark was written count, into
 * video_stats and video_views_daily (the UTC day of the view), one upsert each. Views of videos deleted
 * meanwhile are dropped. Answers the views counted.
 */
export async function writeBatch(
  db: DbOrTx,
  views: PendingView[],
): Promise<Array<{ video_id: string; viewer_key: Buffer; counted_at: Date }>> {
  // Arrays, not one parameter per value: a batch of any size is four parameters.
  const { rows } = await sql<{ video_id: string; viewer_key: Buffer; counted_at: Date }>`
    with input as (
      select distinct on (i.video_id, i.viewer_key) i.*
      from unnest(${views.map((v) => v.videoId)}::uuid[], ${views.map((v) => v.viewerKey)}::bytea[],
        ${views.map((v) => v.at.toISOString())}::timestamptz[], ${views.map((v) => v.member)}::boolean[])
        as i (video_id, viewer_key, at, member)
      join videos v on v.id = i.video_id
      order by i.video_id, i.viewer_key, i.at
    ),
    marked as (
      insert into video_view_marks (video_id, viewer_key, counted_at)
      select video_id, viewer_key, at from input
      on conflict (video_id, viewer_key) do update set counted_at = excluded.counted_at
        where video_view_marks.counted_at <= excluded.counted_at - interval '24 hours'
      returning video_id, viewer_key, counted_at
    ),
    counted as (
      select m.video_id, m.viewer_key, m.counted_at, (m.counted_at at time zone 'UTC')::date as day, i.member
      from marked m join input i using (video_id, viewer_key)
    ),
    daily as (
      insert into video_views_daily (video_id, day, member, non_member)
      select video_id, day, count(*) filter (where member), count(*) filter (where not member)
      from counted group by video_id, day
      on conflict (video_id, day) do update set
        member = video_views_daily.member + excluded.member,
        non_member = video_views_daily.non_member + excluded.non_member
    ),
    stats as (
      insert into video_stats (video_id, views_member, views_non_member)
      select video_id, count(*) filter (where member), count(*) filter (where not member)
      from counted group by video_id
      on conflict (video_id) do update set
        views_member = video_stats.views_member + excluded.views_member,
        views_non_member = video_stats.views_non_member + excluded.views_non_member,
        updated_at = now()
    )
    select video_id, viewer_key, counted_at from counted`.execute(db);
  return rows;
}

/** Removes marks older than a day: they no longer stop a count. */
export async function sweepMarks(db: DbOrTx): Promise<number> {
  const result =
    await sql`delete from video_view_marks where counted_at < now() - interval '24 hours'`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/** Whether the user is a member (any tier) of the channel of `ownerId`. */
export async function isMemberOf(db: DbOrTx, ownerId: string, userId: string): Promise<boolean> {
  const { rows } = await sql<{ member: boolean }>`
    select exists (select 1 from channel_memberships m join channels c on c.id = m.channel_id
      where c.owner_id = ${ownerId} and m.user_id = ${userId}) as member`.execute(db);
  return rows[0]?.member ?? false;
}

export async function countsOf(db: DbOrTx, videoIds: string[]): Promise<Map<string, ViewCounts>> {
  const counts = new Map<string, ViewCounts>();
  if (videoIds.length === 0) return counts;
  const { rows } = await sql<{ video_id: string; member: string; non_member: string }>`
    select video_id, views_member as member, views_non_member as non_member
    from video_stats where video_id = any(${videoIds}::uuid[])`.execute(db);
  for (const r of rows) counts.set(r.video_id, counts3(r.member, r.non_member));
  return counts;
}

export interface DashboardVideoRow {
  id: string;
  title: string;
  status: string;
  publication: string;
  visibility: string;
  access_tier: number;
  hidden: boolean;
  created_at: Date;
  /** created_at to the microsecond, for the cursor (a Date keeps milliseconds only). */
  created_key: string;
  published_at: Date | null;
  views: ViewCounts;
}

/** The owner's videos, every state, newest first, after the cursor's (created_at, id). */
export async function ownerVideos(
  db: DbOrTx,
  ownerId: string,
  opts: { limit: number; after?: [string, string] },
): Promise<DashboardVideoRow[]> {
  const after = opts.after
    ? sql`and (v.created_at, v.id) < (${opts.after[0]}::timestamptz, ${opts.after[1]}::uuid)`
    : sql``;
  const { rows } = await sql<
    Omit<DashboardVideoRow, 'views'> & { member: string | null; non_member: string | null }
  >`
    select v.id, v.title, v.status, v.publication, v.visibility, v.access_tier, v.hidden, v.created_at,
      to_char(v.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as created_key, v.published_at,
      s.views_member as member, s.views_non_member as non_member
    from videos v left join video_stats s on s.video_id = v.id
    where v.owner_id = ${ownerId} ${after}
    order by v.created_at desc, v.id desc
    limit ${opts.limit}`.execute(db);
  return rows.map(({ member, non_member, ...r }) => ({ ...r, views: counts3(member, non_member) }));
}

export interface DayCounts extends ViewCounts {
  day: string;
}

/** Views of the owner's videos per UTC day from `from` to `to` (YYYY-MM-DD), every day, zeros included. */
export async function ownerDays(db: DbOrTx, ownerId: string, from: string, to: string): Promise<DayCounts[]> {
  const { rows } = await sql<{ day: string; member: string; non_member: string }>`
    select to_char(d, 'YYYY-MM-DD') as day, coalesce(sum(vd.member), 0) as member,
      coalesce(sum(vd.non_member), 0) as non_member
    from generate_series(${from}::date, ${to}::date, interval '1 day') d
    left join (video_views_daily vd join videos v on v.id = vd.video_id and v.owner_id = ${ownerId})
      on vd.day = d::date
    group by d order by d`.execute(db);
  return rows.map((r) => ({ day: r.day, ...counts3(r.member, r.non_member) }));
}

export interface RankedVideo extends ViewCounts {
  video_id: string;
  title: string;
}

/** The owner's most viewed videos from `from` to `to`. */
export async function ownerRanking(
  db: DbOrTx,
  ownerId: string,
  from: string,
  to: string,
  limit: number,
): Promise<RankedVideo[]> {
  const { rows } = await sql<{ video_id: string; title: string; member: string; non_member: string }>`
    select v.id as video_id, v.title, sum(vd.member) as member, sum(vd.non_member) as non_member
    from video_views_daily vd join videos v on v.id = vd.video_id
    where v.owner_id = ${ownerId} and vd.day between ${from}::date and ${to}::date
    group by v.id, v.title
    order by sum(vd.member + vd.non_member) desc, v.id
    limit ${limit}`.execute(db);
  return rows.map((r) => ({ video_id: r.video_id, title: r.title, ...counts3(r.member, r.non_member) }));
}

/** Every view of the owner's videos so far. */
export async function ownerTotals(db: DbOrTx, ownerId: string): Promise<ViewCounts> {
  const { rows } = await sql<{ member: string; non_member: string }>`
    select coalesce(sum(s.views_member), 0) as member, coalesce(sum(s.views_non_member), 0) as non_member
    from video_stats s join videos v on v.id = s.video_id
    where v.owner_id = ${ownerId}`.execute(db);
  return counts3(rows[0]?.member, rows[0]?.non_member);
}

/** Memberships of the owner's channel now, by tier (none when they have no channel). */
export async function ownerMembers(
  db: DbOrTx,
  ownerId: string,
): Promise<{ subscribers: number; premium: number }> {
  const { rows } = await sql<{ subscribers: string; premium: string }>`
    select count(*) filter (where m.tier = 1) as subscribers, count(*) filter (where m.tier = 2) as premium
    from channel_memberships m join channels c on c.id = m.channel_id
    where c.owner_id = ${ownerId}`.execute(db);
  return { subscribers: Number(rows[0]?.subscribers ?? 0), premium: Number(rows[0]?.premium ?? 0) };
}

// pg answers bigint sums as strings; view counts stay far below 2^53.
function counts3(member: string | number | null | undefined, nonMember: string | number | null | undefined) {
  const m = Number(member ?? 0);
  const n = Number(nonMember ?? 0);
  return { member: m, non_member: n, total: m + n };
}
