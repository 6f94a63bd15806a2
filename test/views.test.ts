// Views through HTTP: once per viewer per video per 24 h (users, anonymous sessions, address + user
// agent), member and non-member, only for videos the caller may watch, written in batches at the flush
// interval, at a graceful stop, and after a flush that failed.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { uuidv7 } from 'uuidv7';
import { api, registerUser, startTestApp, type TestApp } from './helpers/app.ts';
import { makeClip, tempDir } from './helpers/media.ts';
import { assertProblem, badFields } from './helpers/problems.ts';
import { uploadVideo } from './helpers/upload.ts';
import { waitFor } from './helpers/wait.ts';

const METRICS_TOKEN = 'views-test-metrics-token';

let t: TestApp;
let sql: pg.Client;
let clips: string;

before(async () => {
  t = await startTestApp({
    VIEWS_FLUSH_INTERVAL_MS: '100',
    LADDER_RUNGS: '240',
    ENCODE_PRESET: 'ultrafast',
    REGISTER_LIMIT_PER_IP: '1000',
    METRICS_TOKEN,
  });
  sql = new pg.Client({ connectionString: t.db.url });
  await sql.connect();
  clips = await tempDir();
});
after(async () => {
  await sql.end();
  await t.stop();
  await fs.rm(clips, { recursive: true, force: true });
});

type VideoFacts = {
  publication?: string;
  visibility?: string;
  hidden?: boolean;
  access_tier?: number;
};

/** A watchable video made by SQL (no media needed to count views), with some facts changed. */
async function makeVideo(ownerId: string, facts: VideoFacts = {}): Promise<string> {
  const id = uuidv7();
  await sql.query(
    `insert into videos (id, owner_id, title, status, media_version, playback_version, publication,
       published_at, visibility, hidden, access_tier)
     values ($1, $2, 'a video', 'ready', 1, 1, $3, now(), $4, $5, $6)`,
    [
      id,
      ownerId,
      facts.publication ?? 'published',
      facts.visibility ?? 'public',
      facts.hidden ?? false,
      facts.access_tier ?? 0,
    ],
  );
  return id;
}

/** The owner's channel (made here when the branch does not make one at registration). */
async function channelOf(ownerId: string): Promise<string> {
  await sql.query(
    `insert into channels (id, owner_id, handle, name) values ($1, $2, $3, 'a channel') on conflict do nothing`,
    [uuidv7(), ownerId, `ch${uuidv7().replaceAll('-', '')}`],
  );
  const { rows } = await sql.query('select id from channels where owner_id = $1', [ownerId]);
  return rows[0].id;
}

async function stats(videoId: string) {
  const { rows } = await sql.query(
    'select views_member::int as member, views_non_member::int as non_member from video_stats where video_id = $1',
    [videoId],
  );
  return rows[0] as { member: number; non_member: number } | undefined;
}

const view = (
  app: { url: string },
  id: string,
  opts: { token?: string; session?: string; agent?: string } = {},
) =>
  api(app, 'POST', `/api/v1/videos/${id}/views`, {
    token: opts.token,
    body: opts.session ? { session_id: opts.session } : undefined,
    headers: { 'user-agent': opts.agent ?? 'views-test' },
  });

async function posted(app: { url: string }, id: string, opts: Parameters<typeof view>[2] = {}) {
  const res = await view(app, id, opts);
  assert.equal(res.status, 202, JSON.stringify(res.body));
  assert.equal(res.body, null);
}

/** Writes what the app holds now (every view posted before it). */
const settle = () => t.app.services.views.flush();

describe('views', () => {
  it('counts a view of an uploaded video once per viewer per 24 h', async () => {
    const creator = await registerUser(t);
    const clip = await makeClip(clips, 'clip', { width: 320, height: 240, seconds: 1, audio: false });
    const id = await uploadVideo(t, creator.access_token, clip, { title: 'Counted' });
    await waitFor(
      'the video to be published and playable',
      async () => {
        const res = await api(t, 'GET', `/api/v1/videos/${id}`);
        return res.status === 200;
      },
      60_000,
    );
    const [a, b, c] = [await registerUser(t), await registerUser(t), await registerUser(t)];

    await posted(t, id, { token: a.access_token });
    await posted(t, id, { token: a.access_token });
    await settle();
    assert.deepEqual(await stats(id), { member: 0, non_member: 1 });

    await posted(t, id, { token: a.access_token });
    await posted(t, id, { token: b.access_token });
    await settle();
    assert.deepEqual(await stats(id), { member: 0, non_member: 2 });

    // The rule is the database's, not only this node's memory: on a node that never saw the viewer, a
    // mark 23 h old still stops a count; one 24 h old no longer does.
    await sql.query(
      `update video_view_marks set counted_at = counted_at - interval '23 hours' where video_id = $1`,
      [id],
    );
    const node = await startTestApp(
      { VIEWS_FLUSH_INTERVAL_MS: '600000' },
      { role: 'api' },
      { database: t.db },
    );
    try {
      await posted(node, id, { token: a.access_token });
      await node.app.services.views.flush();
      assert.deepEqual(await stats(id), { member: 0, non_member: 2 });
      await sql.query(
        `update video_view_marks set counted_at = counted_at - interval '1 hour' where video_id = $1`,
        [id],
      );
      await posted(node, id, { token: a.access_token });
      await posted(node, id, { token: c.access_token });
      await node.app.services.views.flush();
      assert.deepEqual(await stats(id), { member: 0, non_member: 4 });
    } finally {
      await node.stop({ keepDatabase: true });
    }
  });

  it('counts anonymous viewers by session id, else by address and user agent', async () => {
    const owner = await registerUser(t);
    const id = await makeVideo(owner.id);
    const s1 = 'session-one-0123456789';
    const s2 = 'session-two-0123456789';
    // Three sessions from one browser: three viewers; one session from two browsers: one viewer.
    await posted(t, id, { session: s1 });
    await posted(t, id, { session: s1, agent: 'another browser' });
    await posted(t, id, { session: s2 });
    await posted(t, id, { session: 'session-three-0123456' });
    await posted(t, id, { agent: 'browser x' });
    await posted(t, id, { agent: 'browser x' });
    await posted(t, id, { agent: 'browser y' });
    await settle();
    assert.deepEqual(await stats(id), { member: 0, non_member: 5 });
    // A signed-in viewer is counted by account, whatever session id they send.
    const user = await registerUser(t);
    await posted(t, id, { token: user.access_token, session: s1 });
    await settle();
    assert.deepEqual(await stats(id), { member: 0, non_member: 6 });
  });

  it('refuses a session id that is too short or too long', async () => {
    const owner = await registerUser(t);
    const id = await makeVideo(owner.id);
    assert.deepEqual(badFields(await view(t, id, { session: 'short' })), ['session_id']);
    assert.deepEqual(badFields(await view(t, id, { session: 'x'.repeat(129) })), ['session_id']);
  });

  it("splits the views of the channel's members and its owner from the others'", async () => {
    const owner = await registerUser(t);
    const [subscriber, premium, stranger] = [
      await registerUser(t),
      await registerUser(t),
      await registerUser(t),
    ];
    const channel = await channelOf(owner.id);
    await sql.query(
      'insert into channel_memberships (channel_id, user_id, tier) values ($1, $2, 1), ($1, $3, 2)',
      [channel, subscriber.id, premium.id],
    );
    // A membership of another channel makes no member of this one.
    const elsewhere = await channelOf(stranger.id);
    const other = await registerUser(t);
    await sql.query('insert into channel_memberships (channel_id, user_id, tier) values ($1, $2, 2)', [
      elsewhere,
      other.id,
    ]);

    const open = await makeVideo(owner.id);
    for (const viewer of [subscriber, premium, owner, stranger, other]) {
      await posted(t, open, { token: viewer.access_token });
    }
    await posted(t, open, { session: 'anonymous-session-000001' });
    await settle();
    assert.deepEqual(await stats(open), { member: 3, non_member: 3 });

    // Members-only: members are counted, the others are told what it takes and nothing is counted.
    const membersOnly = await makeVideo(owner.id, { access_tier: 1 });
    await posted(t, membersOnly, { token: subscriber.access_token });
    assertProblem(await view(t, membersOnly, { token: stranger.access_token }), 403, 'MEMBERSHIP_REQUIRED');
    assertProblem(await view(t, membersOnly), 403, 'MEMBERSHIP_REQUIRED');
    const premiumOnly = await makeVideo(owner.id, { access_tier: 2 });
    assertProblem(await view(t, premiumOnly, { token: subscriber.access_token }), 403, 'PREMIUM_REQUIRED');
    await posted(t, premiumOnly, { token: premium.access_token });
    await settle();
    assert.deepEqual(await stats(membersOnly), { member: 1, non_member: 0 });
    assert.deepEqual(await stats(premiumOnly), { member: 1, non_member: 0 });
  });

  it('answers 404 for a video the caller may not see, and counts nothing', async () => {
    const owner = await registerUser(t);
    const stranger = await registerUser(t);
    const unseen = [
      await makeVideo(owner.id, { hidden: true }),
      await makeVideo(owner.id, { publication: 'draft' }),
      await makeVideo(owner.id, { publication: 'unpublished' }),
      await makeVideo(owner.id, { publication: 'rejected' }),
      await makeVideo(owner.id, { visibility: 'private' }),
      uuidv7(),
    ];
    for (const id of unseen) {
      assertProblem(await view(t, id), 404, 'VIDEO_NOT_FOUND');
      assertProblem(await view(t, id, { token: stranger.access_token }), 404, 'VIDEO_NOT_FOUND');
    }
    await settle();
    const { rows } = await sql.query('select count(*)::int as n from video_stats where video_id = any($1)', [
      unseen,
    ]);
    assert.equal(rows[0].n, 0);
  });

  it('drops the views of a video deleted before the flush, and counts the rest', async () => {
    const owner = await registerUser(t);
    const [gone, kept] = [await makeVideo(owner.id), await makeVideo(owner.id)];
    // A node that flushes only when told, so the deletion surely comes first.
    const node = await startTestApp(
      { VIEWS_FLUSH_INTERVAL_MS: '600000' },
      { role: 'api' },
      { database: t.db },
    );
    try {
      await posted(node, gone, { session: 'deleted-video-session-1' });
      await posted(node, kept, { session: 'deleted-video-session-1' });
      await sql.query('delete from videos where id = $1', [gone]);
      await node.app.services.views.flush();
      assert.deepEqual(await stats(kept), { member: 0, non_member: 1 });
      assert.equal(await stats(gone), undefined);
    } finally {
      await node.stop({ keepDatabase: true });
    }
  });

  it('writes views at the flush interval, not at each request', async () => {
    const owner = await registerUser(t);
    const id = await makeVideo(owner.id);
    await posted(t, id, { session: 'interval-session-0001' });
    await posted(t, id, { session: 'interval-session-0002' });
    // No settle(): the node's own timer writes them.
    await waitFor('the flush', async () => (await stats(id))?.non_member === 2, 5000);
  });

  it('holds views until the flush, and a graceful stop writes them; repeats from another node do not count', async () => {
    const owner = await registerUser(t);
    const id = await makeVideo(owner.id);
    const counted = await registerUser(t);
    await posted(t, id, { token: counted.access_token });
    await settle();
    assert.deepEqual(await stats(id), { member: 0, non_member: 1 });

    // A second node on the same database that would not flush for ten minutes.
    const node = await startTestApp(
      { VIEWS_FLUSH_INTERVAL_MS: '600000' },
      { role: 'api' },
      { database: t.db },
    );
    try {
      await posted(node, id, { session: 'node-two-session-0001' });
      await posted(node, id, { session: 'node-two-session-0002' });
      await posted(node, id, { agent: 'node two browser' });
      await posted(node, id, { token: counted.access_token });
      await new Promise((r) => setTimeout(r, 400));
      assert.deepEqual(await stats(id), { member: 0, non_member: 1 }, 'nothing written before the flush');
    } finally {
      await node.stop({ keepDatabase: true });
    }
    assert.deepEqual(await stats(id), { member: 0, non_member: 4 });
  });

  it('keeps the views of a flush that failed and writes them at the next one', async () => {
    const owner = await registerUser(t);
    const id = await makeVideo(owner.id);
    const failures = async () => {
      const res = await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      const text = await res.text();
      return Number(/^views_flush_failures_total (\d+)/m.exec(text)?.[1] ?? 'NaN');
    };
    const before = await failures();
    await sql.query('alter table video_view_marks rename to video_view_marks_away');
    try {
      await posted(t, id, { session: 'failing-session-000001' });
      await posted(t, id, { session: 'failing-session-000002' });
      await waitFor('a failed flush', async () => (await failures()) > before, 5000);
      assert.equal(await stats(id), undefined);
    } finally {
      await sql.query('alter table video_view_marks_away rename to video_view_marks');
    }
    await waitFor('the next flush', async () => (await stats(id))?.non_member === 2, 5000);
    await settle();
    assert.deepEqual(await stats(id), { member: 0, non_member: 2 });
  });
});
