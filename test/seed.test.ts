// `vireo seed` makes a demo catalog through the public API and the real pipeline; run twice, it finds
// what it made and the catalog stays the same.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { seedCatalog } from '../src/cli/seed.ts';
import { SEED_CREATORS, SEED_TAGS } from '../src/cli/seed-data.ts';
import { api, startTestApp, type TestApp } from './helpers/app.ts';

describe('vireo seed', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t?.stop());

  /** What anyone can see of the catalog: tags, and each creator's channel with its public videos. */
  async function catalog() {
    const tags = (await api(t, 'GET', '/api/v1/tags')).body.items.map((x: { slug: string }) => x.slug).sort();
    const channels: Record<string, string[]> = {};
    for (const c of SEED_CREATORS) {
      const res = await api(t, 'GET', `/api/v1/channels/${c.username}/videos?limit=50`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      channels[c.username] = res.body.items.map((v: { title: string }) => v.title).sort();
    }
    // Each creator's first video: liked and commented on by the two creators before them.
    const community: Record<string, { likes: number; comments: number }> = {};
    for (const c of SEED_CREATORS) {
      const list = await api(t, 'GET', `/api/v1/channels/${c.username}/videos?limit=1`);
      const video = await api(t, 'GET', `/api/v1/videos/${list.body.items[0].id}`);
      community[c.username] = { likes: video.body.likes_count, comments: video.body.comments_count };
    }
    const trending = (await api(t, 'GET', '/api/v1/trending/videos?period=daily')).body.items.length;
    return { tags, channels, community, trending };
  }

  it('makes accounts, channels, tags and processed videos, and a second run changes nothing', async () => {
    const first = await seedCatalog(t.app, { videosPerCreator: 1 });
    assert.equal(first.users, 1 + SEED_CREATORS.length);
    assert.equal(first.tags, SEED_TAGS.length);
    assert.equal(first.videos.made, SEED_CREATORS.length);
    const before = await catalog();
    assert.equal(before.tags.length, SEED_TAGS.length);
    for (const c of SEED_CREATORS) assert.deepEqual(before.channels[c.username], [c.videos[0]!.title]);
    for (const c of SEED_CREATORS) assert.deepEqual(before.community[c.username], { likes: 2, comments: 2 });
    assert.equal(before.trending, SEED_CREATORS.length, 'every liked video is ranked');

    const second = await seedCatalog(t.app, { videosPerCreator: 1 });
    assert.deepEqual(second, { users: 0, tags: 0, videos: { made: 0, found: SEED_CREATORS.length } });
    assert.deepEqual(await catalog(), before);

    // The channel shows what the seed set.
    const alice = await api(t, 'GET', '/api/v1/channels/creator_alice');
    assert.equal(alice.body.name, SEED_CREATORS[0]!.channel.name);
  });
});
