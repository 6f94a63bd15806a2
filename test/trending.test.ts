// Trending: the score's order (interaction, growth, freshness), periods, tags, what may never trend, the
// lists' validation and pages, and the hourly job (idempotent, on graphile-worker's crontab).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { uuidv7 } from 'uuidv7';
import { api, startTestApp, type TestApp } from './helpers/app.ts';
import { insertVideo } from './helpers/discovery-rows.ts';
import { badFields } from './helpers/problems.ts';
import {
  hoursAgo,
  insertComments,
  insertLikes,
  insertUsers,
  insertViews,
  recomputeTrending,
  setPublishedAt,
} from './helpers/trending-rows.ts';
import { waitFor } from './helpers/wait.ts';

let t: TestApp;
let creator: string;
let fans: string[];

before(async () => {
  t = await startTestApp();
  creator = (await insertUsers(t, 1))[0]!;
  fans = await insertUsers(t, 30);
});
after(() => t.stop());

interface Item {
  id: string;
  rank: number;
  score: number;
  access_tier: number;
}

async function trending(period: string, limit = 100): Promise<Item[]> {
  const res = await api(t, 'GET', `/api/v1/trending/videos?period=${period}&limit=${limit}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.period, period);
  return res.body.items;
}

const rankOf = (items: Item[], id: string) => items.findIndex((i) => i.id === id);

function assertAbove(items: Item[], higher: string, lower: string, why: string) {
  const a = rankOf(items, higher);
  const b = rankOf(items, lower);
  assert.ok(a >= 0 && b >= 0, `${why}: both are listed`);
  assert.ok(a < b, `${why}: ${items[a]?.score} should beat ${items[b]?.score}`);
}

describe('trending videos', () => {
  it('ranks by the score: more interaction, growth and freshness come first', async () => {
    // Each pair is made loser first: ties go to the older id, so only the score can order them right.
    const quiet = await insertVideo(t, creator, { title: 'Quiet', tags: ['chess'] });
    const busy = await insertVideo(t, creator, { title: 'Busy', tags: ['jazz'] });
    await insertViews(t, busy, 200);
    await insertLikes(t, busy, fans.slice(0, 20), hoursAgo(1));
    await insertComments(t, busy, fans[0]!, 5, hoursAgo(1));
    await insertViews(t, quiet, 5);
    await insertLikes(t, quiet, fans.slice(0, 1), hoursAgo(1));

    // Same likes today; `falling` had many more yesterday, `rising` none.
    const falling = await insertVideo(t, creator, { title: 'Falling' });
    const rising = await insertVideo(t, creator, { title: 'Rising' });
    for (const id of [rising, falling]) {
      await setPublishedAt(t, id, hoursAgo(24 * 10));
      await insertLikes(t, id, fans.slice(0, 6), hoursAgo(2));
    }
    await insertLikes(t, falling, fans.slice(6, 26), hoursAgo(30));

    // Same views today; one published today, the other three months ago.
    const old = await insertVideo(t, creator, { title: 'Old' });
    const fresh = await insertVideo(t, creator, { title: 'Fresh' });
    await setPublishedAt(t, old, hoursAgo(24 * 90));
    for (const id of [fresh, old]) await insertViews(t, id, 10);

    assert.equal(await recomputeTrending(t), 'done');
    const daily = await trending('daily');
    assertAbove(daily, busy, quiet, 'more interaction');
    assertAbove(daily, rising, falling, 'growth');
    assertAbove(daily, fresh, old, 'freshness');
    // Best first, ranks counting up.
    for (let i = 1; i < daily.length; i++) {
      assert.ok(daily[i - 1]!.score >= daily[i]!.score);
      assert.ok(daily[i - 1]!.rank < daily[i]!.rank);
    }
    // The week holds yesterday's likes too: there, `falling` has more interaction and no decline.
    assertAbove(await trending('weekly'), falling, rising, 'the week counts both days');

    // The formula itself, for 10 views today of a video published now: interaction ln(11)/10,
    // growth 1/2 (a first period), quality (0+2)/(10+50)/0.1, freshness 1.
    const expected = 100 * (0.5 * (Math.log(11) / 10) + 0.2 * 0.5 + 0.15 * (2 / 60 / 0.1) + 0.15 * 1);
    const score = daily[rankOf(daily, fresh)]!.score;
    assert.ok(Math.abs(score - expected) < 0.05, `score ${score}, expected about ${expected}`);
  });

  it('counts in each period only what happened in it', async () => {
    const lastWeek = await insertVideo(t, creator, { title: 'A day and a half ago' });
    await insertLikes(t, lastWeek, fans.slice(0, 10), hoursAgo(36));
    await insertComments(t, lastWeek, fans[0]!, 3, hoursAgo(26));
    await insertViews(t, lastWeek, 100, 2);
    const lastMonth = await insertVideo(t, creator, { title: 'Twenty days ago' });
    await insertViews(t, lastMonth, 100, 20);

    await recomputeTrending(t);
    const daily = await trending('daily');
    const weekly = await trending('weekly');
    const monthly = await trending('monthly');
    assert.equal(rankOf(daily, lastWeek), -1, 'interactions older than a day are not in the daily list');
    assert.ok(rankOf(weekly, lastWeek) >= 0);
    assert.equal(rankOf(weekly, lastMonth), -1, 'nor those older than a week in the weekly one');
    assert.ok(rankOf(monthly, lastWeek) >= 0);
    assert.ok(rankOf(monthly, lastMonth) >= 0);
  });

  it('never lists a hidden, private, unpublished or unlisted video, nor one of a hidden owner', async () => {
    const [owner] = await insertUsers(t, 1);
    const ids = {
      hidden: await insertVideo(t, creator, { title: 'To hide' }),
      private: await insertVideo(t, creator, { title: 'To make private' }),
      unpublished: await insertVideo(t, creator, { title: 'To unpublish' }),
      ownerHidden: await insertVideo(t, owner!, { title: 'Of an owner to hide' }),
    };
    const neverListed = [
      await insertVideo(t, creator, { title: 'Hidden already', hidden: true }),
      await insertVideo(t, creator, { title: 'Unlisted', visibility: 'unlisted' }),
      await insertVideo(t, creator, { title: 'Draft', publication: 'draft' }),
    ];
    const members = await insertVideo(t, creator, { title: 'Members only', accessTier: 1 });
    for (const id of [...Object.values(ids), ...neverListed, members]) {
      await insertViews(t, id, 500);
      await insertLikes(t, id, fans, hoursAgo(1));
    }
    await recomputeTrending(t);
    const before = await trending('daily');
    for (const id of Object.values(ids)) assert.ok(rankOf(before, id) >= 0, 'trending at the recompute');
    for (const id of neverListed) assert.equal(rankOf(before, id), -1, 'never ranked');
    assert.equal(
      before[rankOf(before, members)]?.access_tier,
      1,
      'members-only videos are listed, with tier',
    );

    const db = t.app.database.db;
    await sql`update videos set hidden = true where id = ${ids.hidden}`.execute(db);
    await sql`update videos set visibility = 'private' where id = ${ids.private}`.execute(db);
    await sql`update videos set publication = 'unpublished' where id = ${ids.unpublished}`.execute(db);
    await sql`update users set status = 'hidden' where id = ${owner}`.execute(db);
    for (const period of ['daily', 'weekly', 'monthly']) {
      const now = await trending(period);
      for (const id of Object.values(ids)) assert.equal(rankOf(now, id), -1, `${period} hides it at once`);
    }
    const discover = await api(t, 'GET', '/api/v1/feed/discover/trending?limit=100');
    assert.equal(discover.status, 200);
    for (const id of Object.values(ids)) assert.equal(rankOf(discover.body.items, id), -1);
  });

  it('pages through a period by cursor, and the discover list is the week', async () => {
    await recomputeTrending(t);
    const all = await trending('weekly');
    assert.ok(all.length >= 4);
    const seen: Item[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${cursor}` : '';
      const res = await api(t, 'GET', `/api/v1/trending/videos?period=weekly&limit=3${q}`);
      assert.equal(res.status, 200);
      assert.ok(res.body.items.length <= 3);
      seen.push(...res.body.items);
      cursor = res.body.next_cursor;
    } while (cursor);
    assert.deepEqual(
      seen.map((i) => i.id),
      all.map((i) => i.id),
    );
    const discover = await api(t, 'GET', '/api/v1/feed/discover/trending?limit=100');
    assert.equal(discover.body.period, 'weekly');
    assert.deepEqual(
      discover.body.items.map((i: Item) => i.id),
      all.map((i) => i.id),
    );
    assert.ok(discover.body.computed_at);
  });

  it('answers 400 with the field for a bad period, limit or cursor', async () => {
    const bad = async (path: string) => badFields(await api(t, 'GET', path));
    assert.deepEqual(await bad('/api/v1/trending/videos?period=yearly'), ['period']);
    assert.deepEqual(await bad('/api/v1/trending/videos?limit=0'), ['limit']);
    assert.deepEqual(await bad('/api/v1/trending/videos?limit=101'), ['limit']);
    assert.deepEqual(await bad('/api/v1/trending/videos?limit=ten'), ['limit']);
    assert.deepEqual(await bad('/api/v1/trending/videos?cursor=nonsense'), ['cursor']);
    assert.deepEqual(await bad('/api/v1/trending/tags?period=hourly'), ['period']);
    assert.deepEqual(await bad('/api/v1/trending/tags?limit=-1'), ['limit']);
    assert.deepEqual(await bad('/api/v1/feed/discover/trending?limit=500'), ['limit']);
    assert.deepEqual(await bad('/api/v1/feed/discover/trending-tags?limit=0'), ['limit']);
  });
});

describe('trending tags', () => {
  it('ranks the tags of trending videos by the sum of their scores', async () => {
    await sql`insert into tags (id, name, slug) values (${uuidv7()}, 'Jazz', 'jazz')`.execute(
      t.app.database.db,
    );
    const [a, b] = [
      await insertVideo(t, creator, { title: 'Tagged jazz 1', tags: ['jazz', 'live'] }),
      await insertVideo(t, creator, { title: 'Tagged jazz 2', tags: ['jazz'] }),
    ];
    for (const id of [a, b]) {
      await insertViews(t, id, 300);
      await insertLikes(t, id, fans.slice(0, 25), hoursAgo(1));
    }
    await recomputeTrending(t);
    const res = await api(t, 'GET', '/api/v1/trending/tags?period=daily');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const tags = res.body.items as { tag: string; name: string | null; rank: number; videos_count: number }[];
    const jazz = tags.find((x) => x.tag === 'jazz');
    const chess = tags.find((x) => x.tag === 'chess');
    assert.ok(jazz && chess);
    assert.equal(jazz.name, 'Jazz', 'a curated tag shows its name');
    assert.equal(chess.name, null);
    assert.ok(jazz.rank < chess.rank);
    assert.ok(jazz.videos_count >= 3);
    assert.equal(tags[0]!.rank, 1);

    const discover = await api(t, 'GET', '/api/v1/feed/discover/trending-tags');
    assert.equal(discover.status, 200);
    assert.equal(discover.body.period, 'weekly');
    assert.ok(discover.body.items.some((x: { tag: string }) => x.tag === 'jazz'));
  });
});

describe('the recomputation', () => {
  type Row = { period: string; video_id: string; rank: number; score: number };
  const snapshot = async () => {
    const { rows } = await sql<Row>`select period, video_id, rank, score from trending_videos
      order by period, rank`.execute(t.app.database.db);
    const { rows: tags } = await sql`select period, tag, rank, videos from trending_tags
      order by period, rank`.execute(t.app.database.db);
    return { rows, tags };
  };

  it('is idempotent: running it again gives the same rankings', async () => {
    await recomputeTrending(t);
    const first = await snapshot();
    assert.ok(first.rows.length > 0);
    await Promise.all([recomputeTrending(t), recomputeTrending(t)]);
    const second = await snapshot();
    assert.deepEqual(
      second.rows.map(({ period, video_id, rank }) => ({ period, video_id, rank })),
      first.rows.map(({ period, video_id, rank }) => ({ period, video_id, rank })),
    );
    assert.deepEqual(second.tags, first.tags);
  });

  it('runs hourly from the crontab, through the job queue', async () => {
    const job = t.app.jobs.get('trending.recompute');
    assert.ok(job);
    assert.match(job.cron ?? '', /^\d{1,2} \* \* \* \*$/, 'once an hour');
    const db = t.app.database.db;
    const { rows: known } = await sql<{ identifier: string }>`
      select identifier from graphile_worker._private_known_crontabs`.execute(db);
    assert.ok(
      known.some((k) => k.identifier === 'trending.recompute'),
      'the worker knows it as a cron item',
    );

    const stamp = async () => {
      const { rows } = await sql<{
        at: Date | null;
      }>`select max(computed_at) as at from trending_videos`.execute(db);
      return rows[0]?.at?.getTime() ?? 0;
    };
    const before = await stamp();
    await sql`select graphile_worker.add_job('trending.recompute', '{}'::json)`.execute(db);
    await waitFor('the queued recompute to run', async () => (await stamp()) > before);
  });
});
