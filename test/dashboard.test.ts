// The creator dashboard through HTTP: my videos in every state with their views, page by page; views per
// day, totals, ranking and members; only ever my own.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { uuidv7 } from 'uuidv7';
import { api, registerUser, startTestApp, type TestApp } from './helpers/app.ts';
import { assertProblem, badFields } from './helpers/problems.ts';

let t: TestApp;
let sql: pg.Client;
type User = Awaited<ReturnType<typeof registerUser>>;
let creator: User;
let other: User;
/** The creator's videos, newest first, as the dashboard must list them. */
const mine: string[] = [];
let otherVideo: string;

const DAY_MS = 86_400_000;
const day = (offset: number) => new Date(Date.now() + offset * DAY_MS).toISOString().slice(0, 10);

before(async () => {
  t = await startTestApp({ VIEWS_FLUSH_INTERVAL_MS: '100', REGISTER_LIMIT_PER_IP: '1000' }, { role: 'api' });
  sql = new pg.Client({ connectionString: t.db.url });
  await sql.connect();
  creator = await registerUser(t);
  other = await registerUser(t);
  // 25 videos in every state, oldest first. In each three, two share a creation time (the id breaks the
  // tie) and the third is a microsecond later (the cursor keeps microseconds).
  const states: Array<[string, string, boolean, string]> = [
    ['ready', 'published', false, 'public'],
    ['ready', 'unpublished', false, 'public'],
    ['processing', 'scheduled', false, 'public'],
    ['failed', 'draft', false, 'private'],
    ['ready', 'published', true, 'unlisted'],
    ['ready', 'rejected', false, 'public'],
  ];
  const base = new Date(Date.now() - 3600_000);
  for (let i = 0; i < 25; i++) {
    const [status, publication, hidden, visibility] = states[i % states.length]!;
    await sql.query(
      `insert into videos (id, owner_id, title, status, media_version, playback_version, publication,
         published_at, visibility, hidden, created_at)
       values ($1, $2, $3, $4, 1, $5, $6, now(), $7, $8,
         $9::timestamptz + interval '500 microseconds' + $10 * interval '1 second'
           + $11 * interval '1 microsecond')`,
      [
        uuidv7(),
        creator.id,
        `video ${i}`,
        status,
        status === 'ready' ? 1 : null,
        publication,
        visibility,
        hidden,
        base,
        Math.floor(i / 3),
        i % 3 === 2 ? 1 : 0,
      ],
    );
  }
  const { rows } = await sql.query(
    'select id from videos where owner_id = $1 order by created_at desc, id desc',
    [creator.id],
  );
  mine.splice(0, mine.length, ...rows.map((r) => r.id as string));
  otherVideo = uuidv7();
  await sql.query(
    `insert into videos (id, owner_id, title, status, media_version, playback_version, publication, published_at)
     values ($1, $2, 'not mine', 'ready', 1, 1, 'published', now())`,
    [otherVideo, other.id],
  );
});
after(async () => {
  await sql.end();
  await t.stop();
});

const dashboard = (token: string | undefined, path: string) =>
  api(t, 'GET', `/api/v1/dashboard/${path}`, { token });

async function walk(token: string, limit: number) {
  const items: Array<{ id: string; views: { member: number; non_member: number; total: number } }> = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await dashboard(token, `videos?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    items.push(...res.body.items);
    cursor = res.body.next_cursor;
    assert.ok(++pages < 50);
  } while (cursor);
  return { items, pages };
}

describe('creator dashboard', () => {
  it('lists my videos in every state, newest first, page by page', async () => {
    for (const [limit, expected] of [
      [10, 3],
      [8, 4],
      [1, 25],
    ] as const) {
      const { items, pages } = await walk(creator.access_token, limit);
      assert.equal(pages, expected);
      assert.deepEqual(
        items.map((v) => v.id),
        mine,
        `pages of ${limit}`,
      );
    }
    const first = (await dashboard(creator.access_token, 'videos?limit=25')).body.items as Array<
      Record<string, unknown>
    >;
    const states = new Set(first.map((v) => `${v.status}/${v.publication}/${v.hidden}/${v.visibility}`));
    assert.equal(states.size, 6);
    assert.deepEqual(Object.keys(first[0]!).sort(), [
      'access_tier',
      'created_at',
      'hidden',
      'id',
      'publication',
      'published_at',
      'status',
      'title',
      'views',
      'visibility',
    ]);
    assertProblem(await dashboard(creator.access_token, 'videos?cursor=nonsense'), 400, 'VALIDATION_FAILED');
  });

  it('shows the views counted, member and non-member, per video, per day, in total and ranked', async () => {
    const { rows } = await sql.query(
      `select id from videos where owner_id = $1 and publication = 'published' and not hidden limit 3`,
      [creator.id],
    );
    const [top, second, third] = rows.map((r) => r.id as string) as [string, string, string];
    const channel = uuidv7();
    await sql.query(
      `insert into channels (id, owner_id, handle, name) values ($1, $2, $3, 'mine') on conflict do nothing`,
      [channel, creator.id, `c${channel.replaceAll('-', '')}`],
    );
    const members = [await registerUser(t), await registerUser(t)];
    const strangers = [await registerUser(t), await registerUser(t), await registerUser(t)];
    await sql.query(
      `insert into channel_memberships (channel_id, user_id, tier)
       select id, $2::uuid, 1 from channels where owner_id = $1
       union all select id, $3::uuid, 2 from channels where owner_id = $1`,
      [creator.id, members[0]!.id, members[1]!.id],
    );
    // Ranked by the views: top 2 members + 3 strangers + 1 anonymous, second 3 strangers, third 1 member.
    const post = async (id: string, opts: { token?: string; session?: string }) => {
      const res = await api(t, 'POST', `/api/v1/videos/${id}/views`, {
        token: opts.token,
        body: opts.session ? { session_id: opts.session } : undefined,
      });
      assert.equal(res.status, 202, JSON.stringify(res.body));
    };
    for (const u of [...members, ...strangers]) await post(top, { token: u.access_token });
    await post(top, { session: 'dashboard-anonymous-01' });
    for (const u of strangers) await post(second, { token: u.access_token });
    await post(third, { token: members[0]!.access_token });
    await post(otherVideo, { token: members[0]!.access_token });
    await t.app.services.views.flush();

    const { items } = await walk(creator.access_token, 100);
    const byId = new Map(items.map((v) => [v.id, v.views]));
    assert.deepEqual(byId.get(top), { member: 2, non_member: 4, total: 6 });
    assert.deepEqual(byId.get(second), { member: 0, non_member: 3, total: 3 });
    assert.deepEqual(byId.get(third), { member: 1, non_member: 0, total: 1 });
    const unviewed = mine.find((id) => ![top, second, third].includes(id))!;
    assert.deepEqual(byId.get(unviewed), { member: 0, non_member: 0, total: 0 });
    // The same numbers for other modules.
    const counts = await t.app.services.views.countsOf([top, unviewed]);
    assert.deepEqual(Object.fromEntries(counts), {
      [top]: { member: 2, non_member: 4, total: 6 },
      [unviewed]: { member: 0, non_member: 0, total: 0 },
    });

    // Earlier days, as the batches of those days would have left them.
    await sql.query(
      `insert into video_views_daily (video_id, day, member, non_member)
       values ($1, $3::date, 1, 5), ($2, $4::date, 7, 0), ($2, $5::date, 100, 100)`,
      [third, second, day(-2), day(-4), day(-40)],
    );
    const res = await dashboard(creator.access_token, `analytics?from=${day(-4)}&to=${day(0)}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const a = res.body;
    assert.deepEqual([a.from, a.to], [day(-4), day(0)]);
    assert.deepEqual(a.days, [
      { day: day(-4), member: 7, non_member: 0, total: 7 },
      { day: day(-3), member: 0, non_member: 0, total: 0 },
      { day: day(-2), member: 1, non_member: 5, total: 6 },
      { day: day(-1), member: 0, non_member: 0, total: 0 },
      { day: day(0), member: 3, non_member: 7, total: 10 },
    ]);
    assert.deepEqual(a.totals, { member: 11, non_member: 12, total: 23 });
    // video_stats, every view so far (the days made by hand above are not in it).
    assert.deepEqual(a.all_time, { member: 3, non_member: 7, total: 10 });
    assert.deepEqual(
      a.ranking.map((r: { video_id: string; total: number }) => [r.video_id, r.total]),
      [
        [second, 10],
        [third, 7],
        [top, 6],
      ],
    );
    assert.deepEqual([a.member_count, a.members], [2, { subscribers: 1, premium: 1 }]);

    // By default, the last 30 days up to today.
    const recent = (await dashboard(creator.access_token, 'analytics')).body;
    assert.deepEqual([recent.from, recent.to, recent.days.length], [day(-29), day(0), 30]);
    assert.equal(recent.totals.total, 23);
    const old = (await dashboard(creator.access_token, `analytics?from=${day(-45)}&to=${day(-30)}`)).body;
    assert.equal(old.totals.total, 200);
  });

  it("never shows me another creator's numbers", async () => {
    const { items } = await walk(other.access_token, 10);
    assert.deepEqual(
      items.map((v) => v.id),
      [otherVideo],
    );
    // The viewer is a member of my channel, not of theirs.
    assert.deepEqual(items[0]!.views, { member: 0, non_member: 1, total: 1 });
    const a = (await dashboard(other.access_token, 'analytics')).body;
    assert.deepEqual(a.totals, { member: 0, non_member: 1, total: 1 });
    assert.deepEqual(
      a.ranking.map((r: { video_id: string }) => r.video_id),
      [otherVideo],
    );
    assert.equal(a.member_count, 0);
    // A newcomer with nothing at all.
    const newcomer = await registerUser(t);
    assert.deepEqual((await dashboard(newcomer.access_token, 'videos')).body, {
      items: [],
      next_cursor: null,
    });
    const empty = (await dashboard(newcomer.access_token, 'analytics')).body;
    assert.deepEqual([empty.totals.total, empty.ranking, empty.member_count], [0, [], 0]);
  });

  it('asks who is calling and refuses ranges that make no sense', async () => {
    assertProblem(await dashboard(undefined, 'videos'), 401, 'TOKEN_MISSING');
    assertProblem(await dashboard(undefined, 'analytics'), 401, 'TOKEN_MISSING');
    const token = creator.access_token;
    assert.deepEqual(badFields(await dashboard(token, `analytics?from=${day(0)}&to=${day(-1)}`)), ['from']);
    assert.deepEqual(badFields(await dashboard(token, `analytics?from=${day(-400)}&to=${day(0)}`)), ['from']);
    assert.deepEqual(badFields(await dashboard(token, 'analytics?from=2026-02-30')), ['from']);
    assert.deepEqual(badFields(await dashboard(token, 'analytics?to=yesterday')), ['to']);
  });
});
