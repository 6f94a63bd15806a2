// The community routes (social, comments, likes, collections, viewing) as an outsider attacks them through
// HTTP: objects of others, videos the caller may not watch, forged cursors and ids, validation holes,
// counters under races, rate limits, administrators and idempotency. Each hole found is held by a test here.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { uuidv7 } from 'uuidv7';
import { type SignedIn, startAdminApp } from './helpers/admin.ts';
import { type ApiResponse, api, registerUser, type TestApp } from './helpers/app.ts';
import { insertVideo, type VideoRowInput } from './helpers/discovery-rows.ts';
import { eventsDelivered } from './helpers/events.ts';
import { assertProblem } from './helpers/problems.ts';
import { waitFor } from './helpers/wait.ts';

type Caller = { access_token: string } | undefined;

const RATE = 12;

let t: TestApp;
let admin: SignedIn;
before(async () => {
  ({ t, admin } = await startAdminApp({
    env: { COMMENTS_RATE_LIMIT_PER_MINUTE: String(RATE), OUTBOX_POLL_INTERVAL_MS: '50' },
  }));
});
after(async () => {
  await t.stop();
});

const db = () => t.app.database.db;
const call = (method: string, path: string, who?: Caller, body?: unknown, headers?: Record<string, string>) =>
  api(t, method, path, { token: who?.access_token, body, headers });
const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

async function ownedVideo(opts: Partial<VideoRowInput> = {}) {
  const owner = await registerUser(t);
  return { owner, videoId: await insertVideo(t, owner.id, { title: 'Clip', ...opts }) };
}

async function comment(videoId: string, who: Caller, text: string, parentId?: string) {
  const res = await call('POST', `/api/v1/videos/${videoId}/comments`, who, {
    body: text,
    parent_id: parentId,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body as { id: string };
}

async function hide(userId: string) {
  const res = await call('PUT', `/api/v1/admin/users/${userId}/hide`, admin, {});
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

async function collection(owner: Caller, visibility: 'public' | 'private', name = 'Mix') {
  const res = await call('POST', '/api/v1/collections', owner, { name, visibility });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id as string;
}

/** Page through a list; answers every id. */
async function allIds(path: string, who: Caller): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const res: ApiResponse = await call(
      'GET',
      `${path}${sep}limit=1${cursor ? `&cursor=${cursor}` : ''}`,
      who,
    );
    assert.equal(res.status, 200, `${path}: ${JSON.stringify(res.body)}`);
    ids.push(...res.body.items.map((i: { id: string }) => i.id));
    cursor = res.body.next_cursor;
  } while (cursor);
  return ids;
}

/** The video's stored counters against its rows (comments not deleted, replies, likes), and no bare tombstone. */
async function assertCountsExact(videoId: string) {
  const { rows } = await sql<{
    stored: number;
    live: number;
    bad_replies: number;
    stored_likes: number;
    likes: number;
    bare_tombstones: number;
  }>`
    select
      coalesce((select comments from video_comment_counts where video_id = ${videoId}), 0)::int as stored,
      (select count(*) from comments where video_id = ${videoId} and deleted_at is null)::int as live,
      (select count(*) from comments p where p.video_id = ${videoId}
        and p.reply_count <> (select count(*) from comments c where c.parent_id = p.id))::int as bad_replies,
      coalesce((select likes from like_counts where target_type = 'video' and target_id = ${videoId}), 0)::int
        as stored_likes,
      (select count(*) from likes where target_type = 'video' and target_id = ${videoId})::int as likes,
      (select count(*) from comments where video_id = ${videoId} and deleted_at is not null
        and reply_count = 0)::int as bare_tombstones
  `.execute(db());
  const r = rows[0]!;
  assert.equal(r.stored, r.live, 'video_comment_counts equals the live comments');
  assert.equal(r.bad_replies, 0, 'every reply_count equals its replies');
  assert.equal(r.stored_likes, r.likes, 'like_counts equals the likes rows');
  assert.equal(r.bare_tombstones, 0, 'a tombstone goes with its last reply');
}

describe('forged cursors', () => {
  it('answer 400 VALIDATION_FAILED on every list, never a 500', async () => {
    const user = await registerUser(t);
    const other = await registerUser(t);
    const { videoId } = await ownedVideo();
    const top = await comment(videoId, user, 'Top');
    const playlist = await collection(user, 'public');
    const uuid = uuidv7();
    const lists = [
      `/api/v1/users/${other.id}/followers`,
      `/api/v1/users/${other.id}/following`,
      '/api/v1/users/me/subscriptions',
      `/api/v1/videos/${videoId}/comments`,
      `/api/v1/videos/${videoId}/comments?order=top`,
      `/api/v1/comments/${top.id}/replies`,
      '/api/v1/users/me/likes',
      '/api/v1/collections',
      `/api/v1/users/${user.id}/collections`,
      `/api/v1/users/${other.id}/collections`,
      `/api/v1/collections/${playlist}/items`,
      '/api/v1/users/me/continue-watching',
      '/api/v1/users/me/history',
      '/api/v1/feed',
      `/api/v1/channels/${other.username}/videos`,
      '/api/v1/dashboard/videos',
    ];
    // [cursor, refused by every list keyed by a time]
    const forged: Array<[string, boolean]> = [
      ['not a cursor!', true],
      [enc({ at: 1 }), true],
      [enc([]), true],
      [enc(['garbage', uuid]), true],
      // A well-formed ISO date that PostgreSQL refuses (there is no year 0).
      [enc(['0000-01-01T00:00:00Z', uuid]), true],
      [enc(['0000-01-01T00:00:00.000000Z', uuid]), true],
      [enc(['2024-01-01T00:00:00Z', 'not-a-uuid']), true],
      [enc(['2024-01-01 00:00:00+00\u0000', uuid]), true],
      [enc([null, null]), true],
      [enc([1e308, uuid]), true],
      [enc([-5, uuid]), true],
    ];
    const wrong: string[] = [];
    for (const path of lists) {
      const timed = !path.endsWith('/items') && !path.includes('order=top');
      for (const [cursor, refused] of forged) {
        const sep = path.includes('?') ? '&' : '?';
        const res = await call('GET', `${path}${sep}cursor=${encodeURIComponent(cursor)}`, user);
        // A cursor of the right shape may simply point anywhere: an empty or full page, never a 500.
        const fine =
          (res.status === 200 && !(timed && refused)) ||
          (res.status === 400 &&
            res.body.code === 'VALIDATION_FAILED' &&
            res.body.errors?.[0]?.field === 'cursor');
        if (!fine) wrong.push(`${path} ${Buffer.from(cursor, 'base64url').toString()}: ${res.status}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('a cursor from another list is refused, or pages nowhere, and never errs', async () => {
    const user = await registerUser(t);
    const { videoId } = await ownedVideo();
    for (let i = 0; i < 2; i++) await comment(videoId, user, `c${i}`);
    const playlist = await collection(user, 'private');
    for (let i = 0; i < 2; i++) {
      const v = await insertVideo(t, user.id, { title: `v${i}` });
      await call('POST', `/api/v1/collections/${playlist}/items`, user, { video_id: v });
      await call('PUT', `/api/v1/videos/${v}/progress`, user, { position_s: 3 });
      await call('POST', `/api/v1/like/video/${v}`, user);
    }
    const cursors = new Map<string, string>();
    for (const path of [
      `/api/v1/videos/${videoId}/comments?limit=1`,
      `/api/v1/videos/${videoId}/comments?order=top&limit=1`,
      `/api/v1/collections/${playlist}/items?limit=1`,
      '/api/v1/collections?limit=1',
      '/api/v1/users/me/history?limit=1',
      '/api/v1/users/me/likes?limit=1',
    ]) {
      const res = await call('GET', path, user);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.ok(res.body.next_cursor, `${path} has a next page`);
      cursors.set(path, res.body.next_cursor);
    }
    for (const [from, cursor] of cursors) {
      for (const path of cursors.keys()) {
        const base = path.replace('limit=1', 'limit=5');
        const res = await call('GET', `${base}&cursor=${cursor}`, user);
        assert.ok(
          [200, 400].includes(res.status),
          `${from} → ${path}: ${res.status} ${JSON.stringify(res.body)}`,
        );
        if (res.status === 400) assertProblem(res, 400, 'VALIDATION_FAILED');
        else assert.ok(Array.isArray(res.body.items));
      }
    }
  });
});

describe('one id, two spellings', () => {
  it('an upper-case id of oneself is still oneself: no self-follow, no 500', async () => {
    const user = await registerUser(t);
    const res = await call('POST', `/api/v1/users/${user.id.toUpperCase()}/follow`, user);
    assertProblem(res, 422, 'CANNOT_FOLLOW_SELF');
  });

  it('events and answers name ids in lower case, whatever the request spelled', async () => {
    const { owner, videoId } = await ownedVideo();
    const fan = await registerUser(t);
    const up = videoId.toUpperCase();
    assert.equal((await call('POST', `/api/v1/like/video/${up}`, fan)).status, 204);
    assert.equal((await call('DELETE', `/api/v1/like/video/${videoId}`, fan)).status, 204);
    const parent = await comment(videoId, fan, 'parent');
    const reply = await call('POST', `/api/v1/videos/${up}/comments`, fan, {
      body: 'reply',
      parent_id: parent.id.toUpperCase(),
    });
    assert.equal(reply.status, 201, JSON.stringify(reply.body));
    assert.equal(reply.body.parent_id, parent.id);
    assert.equal(reply.body.video_id, videoId);
    const playlist = await collection(fan, 'private');
    const other = await insertVideo(t, owner.id, { title: 'Other' });
    await call('POST', `/api/v1/collections/${playlist}/items`, fan, { video_id: other });
    const added = await call('POST', `/api/v1/collections/${playlist.toUpperCase()}/items`, fan, {
      video_id: up,
    });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    // The item is found again by either spelling, and moves relative to another one.
    const moved = await call('PUT', `/api/v1/collections/${playlist}/items/${up}/position`, fan, {
      before_video_id: other.toUpperCase(),
    });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.deepEqual(await allIds(`/api/v1/collections/${playlist}/items`, fan), [videoId, other]);
    const followed = await call('POST', `/api/v1/users/${owner.id.toUpperCase()}/follow`, fan);
    assert.equal(followed.status, 204);
    const stats = await call('GET', `/api/v1/users/${owner.id.toUpperCase()}/stats`, fan);
    assert.equal(stats.body.user_id, owner.id);

    const { rows } = await sql<{ type: string; aggregate_id: string; payload: string }>`
      select type, aggregate_id, payload::text from outbox_events
      where type in ('like.created', 'like.deleted', 'comment.created', 'collection.item_added', 'user.followed')
        and (payload::text ilike ${`%${videoId}%`} or aggregate_id ilike ${`%${owner.id}%`})`.execute(db());
    assert.ok(rows.length >= 5, JSON.stringify(rows));
    for (const r of rows) {
      assert.equal(r.aggregate_id, r.aggregate_id.toLowerCase(), `${r.type} aggregate ${r.aggregate_id}`);
      assert.equal(r.payload, r.payload.toLowerCase(), `${r.type} payload ${r.payload}`);
    }
    // A like and its undoing spelled differently are one aggregate: they reach subscribers in order.
    const likes = rows.filter((r) => r.type.startsWith('like.'));
    assert.equal(new Set(likes.map((r) => r.aggregate_id)).size, 1);
  });
});

describe('comments of videos one may not watch', () => {
  it('are not read, answered or liked: private, draft, hidden, of a hidden owner, members-only', async () => {
    const stranger = await registerUser(t);
    const cases: Array<{ opts: Partial<VideoRowInput>; status: number; code: string; hideOwner?: boolean }> =
      [
        { opts: { visibility: 'private' }, status: 404, code: 'VIDEO_NOT_FOUND' },
        { opts: { publication: 'draft' }, status: 404, code: 'VIDEO_NOT_FOUND' },
        { opts: { publication: 'unpublished' }, status: 404, code: 'VIDEO_NOT_FOUND' },
        { opts: { hidden: true }, status: 404, code: 'VIDEO_NOT_FOUND' },
        { opts: {}, status: 404, code: 'VIDEO_NOT_FOUND', hideOwner: true },
        { opts: { accessTier: 1 }, status: 403, code: 'MEMBERSHIP_REQUIRED' },
        { opts: { accessTier: 2 }, status: 403, code: 'PREMIUM_REQUIRED' },
      ];
    for (const c of cases) {
      const { owner, videoId } = await ownedVideo(c.opts);
      // The owner comments (they may always), then the video is what the case says.
      const top = await comment(videoId, owner, 'Mine');
      await comment(videoId, owner, 'Mine again', top.id);
      if (c.hideOwner) await hide(owner.id);
      const what = `${JSON.stringify(c.opts)}${c.hideOwner ? ' hidden owner' : ''}`;
      for (const who of [stranger, undefined]) {
        const commentCode = c.status === 404 ? 'COMMENT_NOT_FOUND' : c.code;
        for (const [res, code] of [
          [await call('GET', `/api/v1/videos/${videoId}/comments`, who), c.code],
          [await call('GET', `/api/v1/comments/${top.id}`, who), commentCode],
          [await call('GET', `/api/v1/comments/${top.id}/replies`, who), commentCode],
        ] as const) {
          assert.equal(res.status, c.status, `${what}: ${JSON.stringify(res.body)}`);
          assertProblem(res, c.status, code);
        }
      }
      assertProblem(
        await call('POST', `/api/v1/videos/${videoId}/comments`, stranger, { body: 'hi' }),
        c.status,
        c.code,
      );
      assertProblem(
        await call('POST', `/api/v1/videos/${videoId}/comments`, stranger, { body: 'hi', parent_id: top.id }),
        c.status,
        c.code,
      );
      const liked = await call('POST', `/api/v1/like/comment/${top.id}`, stranger);
      assert.equal(liked.status, c.status, `${what}: ${JSON.stringify(liked.body)}`);
      const likedVideo = await call('POST', `/api/v1/like/video/${videoId}`, stranger);
      assertProblem(likedVideo, c.status, c.code);
      const progress = await call('PUT', `/api/v1/videos/${videoId}/progress`, stranger, { position_s: 4 });
      assertProblem(progress, c.status, c.code);
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from likes
        where user_id = ${stranger.id}`.execute(db());
      assert.equal(rows[0]!.n, 0, what);
    }
    // Comments of an unlisted video are for whoever holds its link, as the video is.
    const { owner, videoId } = await ownedVideo({ visibility: 'unlisted' });
    const c = await comment(videoId, owner, 'For link holders');
    assert.equal((await call('GET', `/api/v1/comments/${c.id}`)).status, 200);
  });

  it('a reply names a live comment of the same video: not another video’s, not a tombstone', async () => {
    const { owner, videoId } = await ownedVideo();
    const { videoId: elsewhere } = await ownedVideo();
    const user = await registerUser(t);
    const foreign = await comment(elsewhere, user, 'On another video');
    const res = await call('POST', `/api/v1/videos/${videoId}/comments`, user, {
      body: 'Sneaky',
      parent_id: foreign.id,
    });
    assertProblem(res, 404, 'COMMENT_NOT_FOUND');
    assert.deepEqual(
      res.body.errors.map((e: { field: string }) => e.field),
      ['parent_id'],
    );
    const { videoId: secret } = await ownedVideo({ visibility: 'private' });
    const hiddenParent = await comment(secret, admin, 'Admin on a private video');
    assertProblem(
      await call('POST', `/api/v1/videos/${videoId}/comments`, user, {
        body: 'x',
        parent_id: hiddenParent.id,
      }),
      404,
      'COMMENT_NOT_FOUND',
    );
    const stone = await comment(videoId, owner, 'Will go');
    await comment(videoId, user, 'keeps it as a tombstone', stone.id);
    assert.equal((await call('DELETE', `/api/v1/comments/${stone.id}`, owner)).status, 204);
    assertProblem(
      await call('POST', `/api/v1/videos/${videoId}/comments`, user, { body: 'x', parent_id: stone.id }),
      404,
      'COMMENT_NOT_FOUND',
    );
    await assertCountsExact(videoId);
    await assertCountsExact(elsewhere);
  });
});

describe('comments of others', () => {
  it('are edited by their author only, and deleted by the author, the video owner or an admin', async () => {
    const { owner, videoId } = await ownedVideo();
    const [author, stranger] = [await registerUser(t), await registerUser(t)];
    const c = await comment(videoId, author, 'Mine');
    for (const who of [stranger, owner, admin]) {
      assertProblem(
        await call('PATCH', `/api/v1/comments/${c.id}`, who, { body: 'pwned' }),
        403,
        'PERMISSION_DENIED',
      );
    }
    assertProblem(
      await call('PATCH', `/api/v1/comments/${c.id}`, undefined, { body: 'x' }),
      401,
      'TOKEN_MISSING',
    );
    assertProblem(await call('DELETE', `/api/v1/comments/${c.id}`, stranger), 403, 'PERMISSION_DENIED');
    assertProblem(await call('DELETE', `/api/v1/comments/${c.id}`), 401, 'TOKEN_MISSING');
    assert.equal((await call('GET', `/api/v1/comments/${c.id}`)).body.body, 'Mine');

    // The video's owner deletes on their video, an admin anywhere, even on a private video.
    const byOwner = await comment(videoId, author, 'Owner removes this');
    assert.equal((await call('DELETE', `/api/v1/comments/${byOwner.id}`, owner)).status, 204);
    const { owner: other, videoId: secret } = await ownedVideo();
    const onSecret = await comment(secret, author, 'Soon private');
    await sql`update videos set visibility = 'private' where id = ${secret}`.execute(db());
    assertProblem(
      await call('DELETE', `/api/v1/comments/${onSecret.id}`, stranger),
      404,
      'COMMENT_NOT_FOUND',
    );
    assert.equal((await call('DELETE', `/api/v1/comments/${onSecret.id}`, admin)).status, 204);
    assertProblem(await call('DELETE', `/api/v1/comments/${onSecret.id}`, other), 404, 'COMMENT_NOT_FOUND');
    await assertCountsExact(videoId);
    await assertCountsExact(secret);
  });

  it('a hidden administrator has no powers left', async () => {
    const made = await call('POST', '/api/v1/admin/users', admin, {
      username: `mod${Date.now() % 1e9}`,
      email: `mod${Date.now()}@example.test`,
      password: 'a moderator password',
      role: 'admin',
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const login = await call('POST', '/api/v1/auth/login', undefined, {
      username: made.body.username,
      password: 'a moderator password',
    });
    assert.equal(login.status, 200);
    const mod = { access_token: login.body.access_token as string };
    const { videoId } = await ownedVideo();
    const author = await registerUser(t);
    const c = await comment(videoId, author, 'Safe from a hidden admin');
    await hide(made.body.id);
    assertProblem(await call('DELETE', `/api/v1/comments/${c.id}`, mod), 403, 'ACCOUNT_HIDDEN');
    assert.equal((await call('GET', `/api/v1/comments/${c.id}`)).body.deleted, false);
  });
});

describe('the comment rate limit', () => {
  it('counts edits too: rewriting one comment cannot mention people without end', async () => {
    const { videoId } = await ownedVideo();
    const [spammer, ...victims] = [await registerUser(t), await registerUser(t), await registerUser(t)];
    const c = await comment(videoId, spammer, 'innocent');
    const statuses: number[] = [];
    for (let i = 0; i < RATE + 2; i++) {
      const res = await call('PATCH', `/api/v1/comments/${c.id}`, spammer, {
        body: `hey @${victims[i % 2]!.username} (${i})`,
      });
      statuses.push(res.status);
      if (res.status === 429) assertProblem(res, 429, 'RATE_LIMITED');
    }
    assert.ok(statuses.includes(429), `edits past the limit are refused: ${statuses}`);
    assert.ok(statuses.filter((s) => s === 200).length <= RATE - 1, `${statuses}`);
  });

  it('an Idempotency-Key replay makes no second comment and costs no second hit', async () => {
    const { videoId } = await ownedVideo();
    const user = await registerUser(t);
    const key = { 'idempotency-key': `k-${uuidv7()}` };
    const first = await call('POST', `/api/v1/videos/${videoId}/comments`, user, { body: 'once' }, key);
    assert.equal(first.status, 201);
    for (let i = 0; i < RATE + 2; i++) {
      const again = await call('POST', `/api/v1/videos/${videoId}/comments`, user, { body: 'once' }, key);
      assert.equal(again.status, 201);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.equal(again.body.id, first.body.id);
    }
    const other = await call('POST', `/api/v1/videos/${videoId}/comments`, user, { body: 'twice' }, key);
    assertProblem(other, 422, 'IDEMPOTENCY_KEY_REUSED');
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from comments
      where author_id = ${user.id}`.execute(db());
    assert.equal(rows[0]!.n, 1);
    // The replays cost nothing: the user may still write.
    assert.equal(
      (await call('POST', `/api/v1/videos/${videoId}/comments`, user, { body: 'two' })).status,
      201,
    );
    await assertCountsExact(videoId);
  });
});

describe('mentions', () => {
  it('never name a hidden account, the author, or a name that is not a user', async () => {
    const { videoId } = await ownedVideo();
    const [author, visible, hidden] = [await registerUser(t), await registerUser(t), await registerUser(t)];
    await hide(hidden.id);
    const c = await comment(
      videoId,
      author,
      `@${hidden.username} @${visible.username.toUpperCase()} @${author.username} @nobody_${Date.now()}`,
    );
    const { rows } = await sql<{
      mentions: string[];
    }>`select mentions from comments where id = ${c.id}`.execute(db());
    assert.deepEqual(rows[0]!.mentions, [visible.id]);
  });
});

describe('counters under races', () => {
  it('one user liking and unliking at once leaves the counts equal to the likes', async () => {
    const { owner, videoId } = await ownedVideo();
    const fans = [await registerUser(t), await registerUser(t), await registerUser(t)];
    const c = await comment(videoId, owner, 'Liked and unliked');
    await Promise.all(
      Array.from({ length: 60 }, (_, i) => {
        const fan = fans[i % fans.length]!;
        const method = i % 2 ? 'DELETE' : 'POST';
        return call(
          method,
          `/api/v1/like/${i % 4 < 2 ? 'video' : 'comment'}/${i % 4 < 2 ? videoId : c.id}`,
          fan,
        );
      }),
    );
    await assertCountsExact(videoId);
    const { rows } = await sql<{ stored: number; rows_: number; received: number; given: number }>`
      select (select like_count from comments where id = ${c.id})::int as stored,
        (select count(*) from likes where target_type = 'comment' and target_id = ${c.id})::int as rows_,
        coalesce((select likes_received from user_like_counts where user_id = ${owner.id}), 0)::int as received,
        (select count(*) from likes where target_owner_id = ${owner.id})::int as given`.execute(db());
    assert.equal(rows[0]!.stored, rows[0]!.rows_);
    assert.equal(rows[0]!.received, rows[0]!.given);
  });

  it('deleting a whole thread at once, replies arriving meanwhile, keeps every count exact', async () => {
    const { owner, videoId } = await ownedVideo();
    const users = [await registerUser(t), await registerUser(t), await registerUser(t)];
    for (let round = 0; round < 3; round++) {
      const top = await comment(videoId, owner, `top ${round}`);
      const late = await registerUser(t);
      const mids = [];
      for (const u of users) mids.push({ u, c: await comment(videoId, u, 'mid', top.id) });
      const leaves = [];
      for (const m of mids) leaves.push({ u: m.u, c: await comment(videoId, m.u, 'leaf', m.c.id) });
      const deletes = [
        call('DELETE', `/api/v1/comments/${top.id}`, owner),
        ...mids.map((m) => call('DELETE', `/api/v1/comments/${m.c.id}`, m.u)),
        ...leaves.map((l) => call('DELETE', `/api/v1/comments/${l.c.id}`, l.u)),
        // Replies racing with the deletions: each is either refused (404) or counted.
        ...mids.map((m) =>
          call('POST', `/api/v1/videos/${videoId}/comments`, late, { body: 'late', parent_id: m.c.id }),
        ),
        call('POST', `/api/v1/like/comment/${top.id}`, users[0]),
      ];
      const answers = await Promise.all(deletes);
      for (const a of answers)
        assert.ok([201, 204, 404].includes(a.status), `${a.status} ${JSON.stringify(a.body)}`);
      await assertCountsExact(videoId);
    }
    await eventsDelivered(t);
    // No like outlives its comment; tombstones hold none.
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from likes l
      left join comments c on c.id = l.target_id
      where l.video_id = ${videoId} and l.target_type = 'comment'
        and (c.id is null or c.deleted_at is not null)`.execute(db());
    assert.equal(rows[0]!.n, 0);
  });
});

/**
 * Runs `request` while another transaction has deleted `videoId` and not yet committed: the request's
 * access check still sees the video, then its write waits for the deletion, which commits under it.
 */
async function whileVideoDeleted(videoId: string, request: () => Promise<ApiResponse>): Promise<ApiResponse> {
  let pending: Promise<ApiResponse> | undefined;
  await db()
    .transaction()
    .execute(async (tx) => {
      await sql`delete from videos where id = ${videoId}`.execute(tx);
      pending = request();
      // Until the request's write waits for this transaction (or it has answered without waiting).
      let settled = false;
      pending.then(
        () => (settled = true),
        () => (settled = true),
      );
      await waitFor('the write to wait for the deletion', async () => {
        if (settled) return true;
        const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_locks l
          join pg_database d on d.oid = l.database or l.locktype = 'transactionid'
          where not l.granted and d.datname = current_database()`.execute(db());
        return rows[0]!.n > 0;
      });
    });
  return pending!;
}

describe('a video deleted under a write', () => {
  it('answers 404 VIDEO_NOT_FOUND to a comment, a bookmark and a progress report, never a 500', async () => {
    const user = await registerUser(t);
    const playlist = await collection(user, 'private');
    const writes: Array<[string, (videoId: string) => Promise<ApiResponse>]> = [
      ['comment', (v) => call('POST', `/api/v1/videos/${v}/comments`, user, { body: 'too late' })],
      ['bookmark', (v) => call('POST', `/api/v1/collections/${playlist}/items`, user, { video_id: v })],
      ['progress', (v) => call('PUT', `/api/v1/videos/${v}/progress`, user, { position_s: 3 })],
    ];
    for (const [what, write] of writes) {
      const { videoId } = await ownedVideo();
      const res = await whileVideoDeleted(videoId, () => write(videoId));
      assert.equal(res.status, 404, `${what}: ${res.status} ${JSON.stringify(res.body)}`);
      assertProblem(res, 404, 'VIDEO_NOT_FOUND');
    }
  });
});

describe('lists of what one may no longer see', () => {
  it('likes, continue watching and history drop videos made private, hidden or of a hidden owner', async () => {
    const user = await registerUser(t);
    const { owner: gone, videoId: ofHidden } = await ownedVideo({ title: 'Owner goes' });
    const { videoId: toPrivate } = await ownedVideo({ title: 'Goes private' });
    const { videoId: toHidden } = await ownedVideo({ title: 'Moderated' });
    const { videoId: keep } = await ownedVideo({ title: 'Stays' });
    for (const v of [ofHidden, toPrivate, toHidden, keep]) {
      assert.equal((await call('POST', `/api/v1/like/video/${v}`, user)).status, 204);
      assert.equal((await call('PUT', `/api/v1/videos/${v}/progress`, user, { position_s: 5 })).status, 200);
    }
    await hide(gone.id);
    await sql`update videos set visibility = 'private' where id = ${toPrivate}`.execute(db());
    await sql`update videos set hidden = true where id = ${toHidden}`.execute(db());
    for (const path of [
      '/api/v1/users/me/likes',
      '/api/v1/users/me/continue-watching',
      '/api/v1/users/me/history',
    ]) {
      assert.deepEqual(await allIds(path, user), [keep], path);
    }
  });

  it('collections show others only listable items, and their counts say so', async () => {
    const owner = await registerUser(t);
    const viewer = await registerUser(t);
    const pub = await collection(owner, 'public');
    const { owner: maker, videoId: listed } = await ownedVideo();
    const unlisted = await insertVideo(t, maker.id, { title: 'U', visibility: 'unlisted' });
    const soonPrivate = await insertVideo(t, maker.id, { title: 'P' });
    for (const v of [listed, unlisted, soonPrivate]) {
      assert.equal(
        (await call('POST', `/api/v1/collections/${pub}/items`, owner, { video_id: v })).status,
        201,
      );
    }
    await sql`update videos set visibility = 'private' where id = ${soonPrivate}`.execute(db());
    assert.deepEqual(await allIds(`/api/v1/collections/${pub}/items`, viewer), [listed]);
    assert.deepEqual(await allIds(`/api/v1/collections/${pub}/items`, undefined), [listed]);
    assert.equal((await call('GET', `/api/v1/collections/${pub}`, viewer)).body.items_count, 1);
    assert.deepEqual(await allIds(`/api/v1/collections/${pub}/items`, owner), [listed, unlisted]);
  });
});

describe('collections of others', () => {
  it('a private one is not there; a public one is read-only; Watch later is its owner’s alone', async () => {
    const [owner, attacker] = [await registerUser(t), await registerUser(t)];
    const { videoId } = await ownedVideo();
    const priv = await collection(owner, 'private');
    const pub = await collection(owner, 'public');
    const wl = (await call('GET', '/api/v1/collections/watch-later', owner)).body.id as string;
    for (const c of [priv, pub]) {
      assert.equal(
        (await call('POST', `/api/v1/collections/${c}/items`, owner, { video_id: videoId })).status,
        201,
      );
    }
    assert.equal(
      (await call('POST', '/api/v1/collections/watch-later/items', owner, { video_id: videoId })).status,
      201,
    );
    for (const [c, status, code] of [
      [priv, 404, 'COLLECTION_NOT_FOUND'],
      [wl, 404, 'COLLECTION_NOT_FOUND'],
      [pub, 403, 'PERMISSION_DENIED'],
    ] as const) {
      if (status === 404) {
        assertProblem(await call('GET', `/api/v1/collections/${c}`, attacker), 404, code);
        assertProblem(await call('GET', `/api/v1/collections/${c}/items`, attacker), 404, code);
        assertProblem(await call('GET', `/api/v1/collections/${c}/items`), 404, code);
        assertProblem(await call('GET', `/api/v1/collections/${c}`, admin), 404, code);
      }
      const changes: Array<[string, string, unknown?]> = [
        ['PATCH', `/api/v1/collections/${c}`, { name: 'pwned', visibility: 'public' }],
        ['DELETE', `/api/v1/collections/${c}`],
        ['POST', `/api/v1/collections/${c}/items`, { video_id: (await ownedVideo()).videoId }],
        ['DELETE', `/api/v1/collections/${c}/items/${videoId}`],
        ['PUT', `/api/v1/collections/${c}/items/${videoId}/position`, { index: 0 }],
      ];
      for (const [method, path, body] of changes) {
        assertProblem(await call(method, path, attacker, body), status, code);
        assertProblem(await call(method, path, undefined, body), 401, 'TOKEN_MISSING');
      }
    }
    assert.deepEqual(
      (await call('GET', `/api/v1/users/${owner.id}/collections`, attacker)).body.items.map(
        (c: { id: string }) => c.id,
      ),
      [pub],
    );
    for (const c of [priv, pub, wl]) {
      assert.deepEqual(await allIds(`/api/v1/collections/${c}/items`, owner), [videoId], 'untouched');
      const got = await call('GET', `/api/v1/collections/${c}`, owner);
      assert.notEqual(got.body.name, 'pwned');
    }
  });

  it('refuses bad input with a 400 naming the field', async () => {
    const user = await registerUser(t);
    const bad: Array<[string, string, unknown]> = [
      ['POST', '/api/v1/collections', { name: 'x'.repeat(101) }],
      ['POST', '/api/v1/collections', { name: 'x'.repeat(100_000) }],
      ['POST', '/api/v1/collections', { name: 'ok', description: 'y'.repeat(1001) }],
      ['POST', '/api/v1/collections', { name: 'a\u0000b' }],
      ['POST', '/api/v1/collections', { name: 'ok', description: 'a\u0000b' }],
      ['POST', '/api/v1/collections', { name: 'ok', visibility: 'secret' }],
      ['POST', '/api/v1/collections/watch-later/items', { video_id: 'not-a-uuid' }],
      ['POST', '/api/v1/collections/watch-later/items', { video_id: uuidv7(), position: -1 }],
      ['POST', '/api/v1/collections/watch-later/items', { video_id: uuidv7(), position: 1.5 }],
      ['POST', '/api/v1/collections/watch-later/items', { video_id: uuidv7(), position: 1e300 }],
      ['PUT', `/api/v1/collections/watch-later/items/${uuidv7()}/position`, { index: -1 }],
      ['PUT', `/api/v1/collections/watch-later/items/${uuidv7()}/position`, {}],
      ['GET', '/api/v1/collections/not-a-uuid', undefined],
      ['GET', '/api/v1/collections?limit=0', undefined],
      ['GET', '/api/v1/collections?limit=NaN', undefined],
    ];
    for (const [method, path, body] of bad) {
      const res = await call(method, path, user, body);
      assertProblem(res, 400, 'VALIDATION_FAILED');
    }
  });
});

describe('progress', () => {
  it('refuses positions that are not a finite time in range', async () => {
    const { videoId } = await ownedVideo();
    const user = await registerUser(t);
    for (const body of [
      { position_s: -1 },
      { position_s: -0.0001 },
      { position_s: 'NaN' },
      { position_s: null },
      { position_s: 1e308 },
      { position_s: 10, duration_s: 0 },
      { position_s: 10, duration_s: -5 },
      {},
    ]) {
      assertProblem(
        await call('PUT', `/api/v1/videos/${videoId}/progress`, user, body),
        400,
        'VALIDATION_FAILED',
      );
    }
    const raw = await api(t, 'PUT', `/api/v1/videos/${videoId}/progress`, {
      token: user.access_token,
      headers: { 'content-type': 'application/json' },
      raw: '{"position_s": NaN}',
    });
    assert.equal(raw.status, 400);
    assertProblem(
      await call('PUT', '/api/v1/videos/not-a-uuid/progress', user, { position_s: 1 }),
      400,
      'VALIDATION_FAILED',
    );
  });
});

describe('the social graph', () => {
  it('hides hidden accounts from lists, stats and follows; admins still see their stats', async () => {
    const [star, fan, ghost] = [await registerUser(t), await registerUser(t), await registerUser(t)];
    for (const f of [fan, ghost]) {
      assert.equal((await call('POST', `/api/v1/users/${star.id}/follow`, f)).status, 204);
    }
    assert.equal((await call('POST', `/api/v1/users/${ghost.id}/follow`, star)).status, 204);
    await hide(ghost.id);
    assert.deepEqual(await allIds(`/api/v1/users/${star.id}/followers`, undefined), [fan.id]);
    assert.deepEqual(await allIds(`/api/v1/users/${star.id}/following`, fan), []);
    for (const path of ['stats', 'followers', 'following']) {
      assertProblem(await call('GET', `/api/v1/users/${ghost.id}/${path}`, fan), 404, 'USER_NOT_FOUND');
      assertProblem(await call('GET', `/api/v1/users/${ghost.id}/${path}`), 404, 'USER_NOT_FOUND');
    }
    assertProblem(await call('GET', `/api/v1/users/${ghost.id}/is-following`, fan), 404, 'USER_NOT_FOUND');
    assertProblem(await call('POST', `/api/v1/users/${ghost.id}/follow`, fan), 404, 'USER_NOT_FOUND');
    assertProblem(await call('GET', `/api/v1/users/${ghost.id}/collections`, fan), 404, 'USER_NOT_FOUND');
    assert.equal((await call('GET', `/api/v1/users/${ghost.id}/stats`, admin)).status, 200);
    assertProblem(await call('GET', `/api/v1/users/${uuidv7()}/stats`, admin), 404, 'USER_NOT_FOUND');
    assertProblem(await call('GET', '/api/v1/users/not-a-uuid/stats'), 400, 'VALIDATION_FAILED');
    assertProblem(await call('GET', '/api/v1/users/me/is-following', fan), 400, 'VALIDATION_FAILED');
  });

  it('my subscriptions leave out channels of hidden accounts', async () => {
    const [creator, fan] = [await registerUser(t), await registerUser(t)];
    const me = await call('GET', '/api/v1/users/me', creator);
    const channelId = me.body.channel_id as string;
    assert.equal((await call('POST', `/api/v1/channels/${channelId}/subscribe`, fan)).status, 200);
    assert.deepEqual(await allIds('/api/v1/users/me/subscriptions', fan), [channelId]);
    await hide(creator.id);
    assert.deepEqual(await allIds('/api/v1/users/me/subscriptions', fan), []);
    assertProblem(
      await call('POST', `/api/v1/channels/${channelId}/subscribe`, fan),
      404,
      'CHANNEL_NOT_FOUND',
    );
  });
});
