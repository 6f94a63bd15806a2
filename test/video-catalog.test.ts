// What a video carries in the catalog and who may change it: metadata edits (PUT/PATCH) with their
// rules and events, access through the API (hidden, publication, tiers, media), moderation, and the
// creator's own list of uploads.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { uuidv7 } from 'uuidv7';
import { type SignedIn, startAdminApp } from './helpers/admin.ts';
import { api, registerUser, type TestApp } from './helpers/app.ts';
import { assertProblem, badFields } from './helpers/problems.ts';
import { eventsOf, makeVideo } from './helpers/videos.ts';

let t: TestApp;
let admin: SignedIn;
before(async () => {
  // No worker: videos are processed by hand (makeVideo).
  ({ t, admin } = await startAdminApp());
});
after(() => t.stop());

const db = () => t.app.database.db;
const getVideo = (id: string, token?: string) => api(t, 'GET', `/api/v1/videos/${id}`, { token });
const put = (id: string, token: string | undefined, body: unknown) =>
  api(t, 'PUT', `/api/v1/videos/${id}`, { token, body });
const typesOf = async (id: string) => (await eventsOf(t, id)).map((e) => e.type);

describe('editing a video', () => {
  it('keeps what the owner sets, normalised, and announces each change once', async () => {
    const owner = await registerUser(t);
    const id = await makeVideo(t, owner);
    const edit = {
      title: '  Pasta at home ',
      description: 'Fresh pasta, step by step.',
      tags: ['Cooking Tips', 'cooking-tips', 'ÉTÉ 2024', '料理'],
      category: 'food',
      language: 'pt-BR',
      thumbnail_time_s: 2.5,
    };
    const res = await put(id, owner.access_token, edit);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const v = res.body;
    assert.deepEqual(
      [v.title, v.description, v.tags, v.category, v.language, v.thumbnail_time_s],
      ['Pasta at home', edit.description, ['cooking-tips', 'été-2024', '料理'], 'food', 'pt-BR', 2.5],
    );
    assert.deepEqual((await getVideo(id)).body.tags, ['cooking-tips', 'été-2024', '料理']);
    // The same again: nothing changed, nothing announced.
    assert.equal((await put(id, owner.access_token, edit)).status, 200);
    const updated = (await eventsOf(t, id)).filter((e) => e.type === 'video.updated');
    assert.deepEqual(
      updated.map((e) => e.payload),
      [
        {
          video_id: id,
          owner_id: owner.id,
          fields: ['title', 'description', 'tags', 'category', 'language', 'thumbnail_time_s'],
        },
      ],
    );

    // Visibility and access tier: video.visibility_changed, by PATCH as well.
    const patched = await api(t, 'PATCH', `/api/v1/videos/${id}`, {
      token: owner.access_token,
      body: { visibility: 'unlisted', access_tier: 1 },
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.deepEqual([patched.body.visibility, patched.body.access_tier], ['unlisted', 1]);
    assert.equal((await put(id, owner.access_token, { visibility: 'unlisted' })).status, 200);
    assert.equal((await put(id, owner.access_token, { category: null, tags: [] })).status, 200);
    assert.deepEqual(await typesOf(id), [
      'video.ready',
      'video.published',
      'video.updated',
      'video.visibility_changed',
      'video.updated',
    ]);
    const changed = (await eventsOf(t, id)).find((e) => e.type === 'video.visibility_changed');
    assert.deepEqual(changed?.payload, {
      video_id: id,
      owner_id: owner.id,
      visibility: 'unlisted',
      access_tier: 1,
    });
    const last = (await eventsOf(t, id)).at(-1);
    assert.deepEqual(last?.payload.fields, ['tags', 'category']);
  });

  it('refuses what the rules do not allow, naming the field', async () => {
    const owner = await registerUser(t);
    const id = await makeVideo(t, owner);
    const fieldsOf = async (body: unknown) => badFields(await put(id, owner.access_token, body));
    assert.deepEqual(await fieldsOf({ title: '   ' }), ['title']);
    assert.deepEqual(await fieldsOf({ title: 'x'.repeat(101) }), ['title']);
    assert.deepEqual(await fieldsOf({ description: 'x'.repeat(5001) }), ['description']);
    assert.deepEqual(await fieldsOf({ tags: Array.from({ length: 16 }, (_, i) => `t${i}`) }), ['tags']);
    assert.deepEqual(await fieldsOf({ tags: ['x'.repeat(51)] }), ['tags.0']);
    assert.deepEqual(await fieldsOf({ tags: ['ok', '!!!'] }), ['tags.1']);
    assert.deepEqual(await fieldsOf({ category: 'cooking' }), ['category']);
    assert.deepEqual(await fieldsOf({ language: 'english please' }), ['language']);
    assert.deepEqual(await fieldsOf({ access_tier: 3 }), ['access_tier']);
    assert.deepEqual(await fieldsOf({ visibility: 'secret' }), ['visibility']);
    assert.deepEqual(await fieldsOf({ thumbnail_time_s: 4.5 }), ['thumbnail_time_s']);
    assert.deepEqual(await fieldsOf({ thumbnail_time_s: -1 }), ['thumbnail_time_s']);
    assert.deepEqual(await fieldsOf({}), ['title']);
    assert.ok((await fieldsOf({ owner_id: uuidv7() })).length > 0);
    // 15 tags and 100 characters are fine.
    const ok = await put(id, owner.access_token, {
      title: 'x'.repeat(100),
      tags: Array.from({ length: 15 }, (_, i) => `t${i}`),
      thumbnail_time_s: 4,
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    // A video processing has not read yet has no duration to choose a frame in.
    const fresh = await makeVideo(t, owner, 'unprocessed');
    assert.deepEqual(badFields(await put(fresh, owner.access_token, { thumbnail_time_s: 1 })), [
      'thumbnail_time_s',
    ]);
  });

  it('lets only the owner or an admin edit: 403 to those who see it, 404 to those who do not', async () => {
    const owner = await registerUser(t);
    const other = await registerUser(t);
    const shown = await makeVideo(t, owner);
    assertProblem(await put(shown, other.access_token, { title: 'Mine now' }), 403, 'PERMISSION_DENIED');
    assertProblem(await put(shown, undefined, { title: 'Mine now' }), 401, 'TOKEN_MISSING');
    assert.equal((await put(shown, admin.access_token, { title: 'Edited by staff' })).status, 200);
    assert.equal((await getVideo(shown)).body.title, 'Edited by staff');
    assert.equal((await put(shown, owner.access_token, { visibility: 'private' })).status, 200);
    assertProblem(await put(shown, other.access_token, { title: 'Mine now' }), 404, 'VIDEO_NOT_FOUND');
    assertProblem(await put(uuidv7(), owner.access_token, { title: 'x' }), 404, 'VIDEO_NOT_FOUND');
    assert.equal((await getVideo(shown, owner.access_token)).body.title, 'Edited by staff');
  });

  it("shows the owner's channel and the view count", async () => {
    const owner = await registerUser(t);
    const id = await makeVideo(t, owner);
    const none = (await getVideo(id)).body;
    assert.deepEqual([none.views_count, none.publication, none.access_tier], [0, 'published', 0]);
    assert.equal(none.hidden, undefined, 'moderation is the owner’s business');
    assert.equal((await getVideo(id, owner.access_token)).body.hidden, false);
    // The owner's channel came with the account; views arrive with their module (its row made by hand).
    const channelId = (await api(t, 'GET', '/api/v1/users/me', { token: owner.access_token })).body
      .channel_id;
    await sql`update channels set handle = ${`h${channelId.slice(-8)}`}, name = 'Pasta Lab'
      where id = ${channelId}`.execute(db());
    await sql`insert into video_stats (video_id, views_member, views_non_member)
      values (${id}, 2, 5)`.execute(db());
    const v = (await getVideo(id)).body;
    assert.deepEqual(v.channel, { id: channelId, handle: `h${channelId.slice(-8)}`, name: 'Pasta Lab' });
    assert.equal(v.views_count, 7);
  });
});

describe('who may watch, through the API', () => {
  /** The owner's channel, made with the account. */
  async function channelOf(owner: { id: string }): Promise<string> {
    const { rows } = await sql<{ id: string }>`select id from channels where owner_id = ${owner.id}`.execute(
      db(),
    );
    assert.ok(rows[0], 'every account has a channel');
    return rows[0].id;
  }
  const join = (channelId: string, user: { id: string }, tier: 1 | 2) =>
    sql`insert into channel_memberships (channel_id, user_id, tier) values (${channelId}, ${user.id}, ${tier})
      on conflict (channel_id, user_id) do update set tier = excluded.tier`.execute(db());
  /** The segment URL of a video's playback URLs, as handed to the caller, and without its token. */
  const segmentOf = (hls: string) => hls.replace('master.m3u8', '240p/seg_00000.m4s');
  const withoutToken = (url: string) => url.split('?')[0]!;

  it('asks members-only videos for the membership, and hands out media tokens only to members', async () => {
    const owner = await registerUser(t);
    const stranger = await registerUser(t);
    const subscriber = await registerUser(t);
    const premium = await registerUser(t);
    const channel = await channelOf(owner);
    await join(channel, subscriber, 1);
    await join(channel, premium, 2);
    const id = await makeVideo(t, owner);
    const publicUrls = (await getVideo(id)).body.playback;
    assert.equal((await api(t, 'GET', segmentOf(publicUrls.hls))).status, 200);

    assert.equal((await put(id, owner.access_token, { access_tier: 1 })).status, 200);
    assertProblem(await getVideo(id), 403, 'MEMBERSHIP_REQUIRED');
    assertProblem(await getVideo(id, stranger.access_token), 403, 'MEMBERSHIP_REQUIRED');
    // The media of a members-only video needs a token, even at a public video's URL.
    const current = (await getVideo(id, subscriber.access_token)).body.playback;
    assert.ok(current.hls.includes('?token='), current.hls);
    assertProblem(await api(t, 'GET', withoutToken(segmentOf(current.hls))), 404, 'VIDEO_NOT_FOUND');
    assert.equal((await api(t, 'GET', segmentOf(current.hls))).status, 200);
    // URLs handed out before the tier was raised stop working.
    assert.notEqual((await api(t, 'GET', segmentOf(publicUrls.hls))).status, 200);
    assert.equal((await getVideo(id, premium.access_token)).status, 200);
    assert.equal((await getVideo(id, owner.access_token)).status, 200);

    assert.equal((await put(id, owner.access_token, { access_tier: 2 })).status, 200);
    assertProblem(await getVideo(id, subscriber.access_token), 403, 'PREMIUM_REQUIRED');
    assertProblem(await getVideo(id), 403, 'PREMIUM_REQUIRED');
    const paid = (await getVideo(id, premium.access_token)).body.playback;
    assert.equal((await api(t, 'GET', segmentOf(paid.hls))).status, 200);
    assert.equal((await getVideo(id, admin.access_token)).status, 200);
  });

  it('hides, rejects and reinstates by a moderator; 404 to all but the owner and admins meanwhile', async () => {
    const owner = await registerUser(t);
    const viewer = await registerUser(t);
    const id = await makeVideo(t, owner);
    const moderate = (decision: Parameters<typeof t.app.videos.publishing.moderate>[2]) =>
      db()
        .transaction()
        .execute((tx) => t.app.videos.publishing.moderate(tx, id, decision));
    const hlsBefore = (await getVideo(id)).body.playback.hls;

    await moderate({ hidden: true, reason: 'Reported as spam' });
    for (const token of [undefined, viewer.access_token]) {
      assertProblem(await getVideo(id, token), 404, 'VIDEO_NOT_FOUND');
    }
    assertProblem(await api(t, 'GET', segmentOf(hlsBefore)), 404, 'VIDEO_NOT_FOUND');
    const seen = (await getVideo(id, owner.access_token)).body;
    assert.deepEqual([seen.hidden, seen.moderation_reason], [true, 'Reported as spam']);
    assert.equal((await getVideo(id, admin.access_token)).status, 200);
    await moderate({ hidden: true, reason: 'Reported as spam' }); // no change, no event
    await moderate({ hidden: false, reason: 'Checked: fine' });
    assert.equal((await getVideo(id, viewer.access_token)).status, 200);
    assert.equal((await getVideo(id, owner.access_token)).body.moderation_reason, null);

    await moderate({ reject: true, reason: 'Copyright' });
    assertProblem(await getVideo(id, viewer.access_token), 404, 'VIDEO_NOT_FOUND');
    const rejected = (await getVideo(id, owner.access_token)).body;
    assert.deepEqual([rejected.publication, rejected.moderation_reason], ['rejected', 'Copyright']);
    assertProblem(
      await api(t, 'PATCH', `/api/v1/videos/${id}/publish`, {
        token: owner.access_token,
        body: { published: true },
      }),
      409,
      'INVALID_STATE',
    );
    await moderate({ reinstate: true, reason: 'Licence shown' });
    assert.equal((await getVideo(id, owner.access_token)).body.publication, 'unpublished');
    await assert.rejects(moderate({ reinstate: true, reason: 'again' }), /INVALID_STATE|rejected/);
    const republished = await api(t, 'PATCH', `/api/v1/videos/${id}/publish`, {
      token: owner.access_token,
      body: { published: true },
    });
    assert.equal(republished.status, 200);
    assert.equal((await getVideo(id, viewer.access_token)).status, 200);

    const events = (await eventsOf(t, id)).filter((e) => e.type !== 'video.ready');
    assert.deepEqual(
      events.map((e) => [
        e.type,
        e.payload.hidden ?? e.payload.publication ?? null,
        e.payload.reason ?? null,
      ]),
      [
        ['video.published', null, null],
        ['video.moderated', true, 'Reported as spam'],
        ['video.moderated', false, 'Checked: fine'],
        ['video.unpublished', 'rejected', 'Copyright'],
        ['video.moderated', false, 'Licence shown'],
        ['video.published', null, null],
      ],
    );
  });
});

describe('my uploads', () => {
  const mine = (token: string | undefined, query = '', headers: Record<string, string> = {}) =>
    api(t, 'GET', `/api/v1/users/me/videos${query}`, { token, headers });

  it('lists my videos in every state, newest first, page by page, and revalidates with ETag', async () => {
    const owner = await registerUser(t);
    const other = await registerUser(t);
    await makeVideo(t, other);
    const ids = [
      await makeVideo(t, owner, 'unprocessed'),
      await makeVideo(t, owner),
      await makeVideo(t, owner, 'playable'),
      await makeVideo(t, owner),
      await makeVideo(t, owner),
    ];
    await api(t, 'PATCH', `/api/v1/videos/${ids[1]}/publish`, {
      token: owner.access_token,
      body: { published: false },
    });
    await db()
      .transaction()
      .execute((tx) =>
        t.app.videos.publishing.moderate(tx, ids[3]!, { reject: true, hidden: true, reason: 'Spam' }),
      );

    const seen: Array<{ id: string; publication: string; status: string; hidden: boolean }> = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await mine(owner.access_token, `?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.ok(res.body.items.length <= 2);
      seen.push(...res.body.items);
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    assert.equal(pages, 3);
    assert.deepEqual(
      seen.map((v) => v.id),
      [...ids].reverse(),
    );
    assert.deepEqual(
      seen.map((v) => [v.status, v.publication, v.hidden]),
      [
        ['ready', 'published', false],
        ['ready', 'rejected', true],
        ['playable', 'published', false],
        ['ready', 'unpublished', false],
        ['uploaded', 'scheduled', false],
      ],
    );

    const first = await mine(owner.access_token);
    const etag = first.headers.get('etag')!;
    assert.ok(etag);
    const again = await mine(owner.access_token, '', { 'if-none-match': etag });
    assert.equal(again.status, 304);
    await api(t, 'PUT', `/api/v1/videos/${ids[0]}`, {
      token: owner.access_token,
      body: { title: 'Renamed' },
    });
    const changed = await mine(owner.access_token, '', { 'if-none-match': etag });
    assert.equal(changed.status, 200);
    assert.notEqual(changed.headers.get('etag'), etag);
    assert.equal(changed.body.items.at(-1).title, 'Renamed');

    assert.deepEqual((await mine(other.access_token)).body.items.length, 1);
    assertProblem(await mine(undefined), 401, 'TOKEN_MISSING');
    assert.deepEqual(badFields(await mine(owner.access_token, '?cursor=nonsense')), ['cursor']);
  });
});
