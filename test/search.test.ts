import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { api, registerUser, startTestApp, type TestApp } from './helpers/app.ts';
import { insertVideo, type VideoRowInput } from './helpers/discovery-rows.ts';
import { makeClip, tempDir } from './helpers/media.ts';
import { badFields } from './helpers/problems.ts';
import { uploadVideo } from './helpers/upload.ts';
import { waitFor } from './helpers/wait.ts';

let t: TestApp;
let clips: string;
let creator: { id: string; access_token: string };
const ids: Record<string, string> = {};

const day = (d: string) => new Date(`${d}T12:00:00Z`);
// Made out of upload order, so that sorting by upload time is seen to be what sorts.
const VIDEOS: Record<string, VideoRowInput & { views?: number }> = {
  tokyo: { title: '東京の夜景', category: 'travel', durationS: 120, createdAt: day('2026-04-01'), views: 5 },
  lessons: {
    title: 'Guitar lessons for beginners',
    category: 'education',
    durationS: 300,
    tags: ['music', 'strings'],
    createdAt: day('2026-01-10'),
    views: 50,
  },
  advanced: {
    title: 'Advanced guitarist techniques',
    category: 'music',
    durationS: 900,
    createdAt: day('2026-03-05'),
    views: 500,
  },
  washoku: {
    title: '日本料理の作り方',
    category: 'food',
    durationS: 600,
    accessTier: 1,
    createdAt: day('2026-05-01'),
  },
  pasta: {
    title: 'Cooking pasta',
    description: 'A chef who plays guitar while the water boils',
    category: 'food',
    durationS: 200,
    accessTier: 2,
    createdAt: day('2026-06-01'),
    views: 20,
  },
};
// Each would match "guitar", and none may ever be found.
const UNLISTED: Record<string, VideoRowInput> = {
  hidden: { title: 'Guitar hidden zebra', hidden: true },
  private: { title: 'Guitar private zebra', visibility: 'private' },
  unlisted: { title: 'Guitar unlisted zebra', visibility: 'unlisted' },
  unpublished: { title: 'Guitar unpublished zebra', publication: 'unpublished' },
  rejected: { title: 'Guitar rejected zebra', publication: 'rejected' },
  draft: { title: 'Guitar draft zebra', publication: 'draft' },
};

before(async () => {
  t = await startTestApp({
    LADDER_RUNGS: '240',
    SEGMENT_SECONDS: '2',
    ENCODE_PRESET: 'ultrafast',
    REGISTER_LIMIT_PER_IP: '1000',
    // The query itself, every time (search-cache.test.ts covers the cache in front of it).
    SEARCH_CACHE_TTL_MS: '0',
  });
  clips = await tempDir();
  creator = await registerUser(t);
  const db = t.app.database.db;
  for (const [name, { views, ...v }] of Object.entries(VIDEOS)) {
    ids[name] = await insertVideo(t, creator.id, v);
    if (views !== undefined) {
      await sql`insert into video_stats (video_id, views_member, views_non_member)
        values (${ids[name]}, 0, ${views})`.execute(db);
    }
  }
  for (const [name, v] of Object.entries(UNLISTED)) ids[name] = await insertVideo(t, creator.id, v);
});
after(async () => {
  await t.stop();
  await fs.rm(clips, { recursive: true, force: true });
});

type Item = { id: string; title: string; views_count: number; created_at: string };
const search = async (query: string) => {
  const res = await api(t, 'GET', `/api/v1/search?${query}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as { items: Item[]; next_cursor: string | null };
};
const found = async (query: string) => (await search(query)).items.map((v) => v.id);
const named = (...names: string[]) => names.map((n) => ids[n]);
const sorted = (xs: (string | undefined)[]) => [...xs].sort();

/** Follows next_cursor to the end with pages of `limit`; answers every id in order. */
async function walk(query: string, limit: number): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 50; pages++) {
    const page = await search(`${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    assert.ok(page.items.length <= limit);
    seen.push(...page.items.map((v) => v.id));
    cursor = page.next_cursor;
    if (!cursor) return seen;
  }
  assert.fail('pagination never ends');
}

describe('search', () => {
  it('finds words in title, description and tags, best matches first', async () => {
    const guitar = await found('q=guitar');
    assert.deepEqual(sorted(guitar), sorted(named('lessons', 'advanced', 'pasta')));
    assert.equal(guitar.at(-1), ids.pasta, 'a title match ranks above a description match');
    assert.deepEqual(await found('q=strings'), named('lessons'), 'tags are searched');
    assert.deepEqual(await found('q=boils'), named('pasta'), 'descriptions are searched');
    assert.deepEqual(await found('q=GUITAR%20beginners'), named('lessons'));
    // Query syntax characters are words apart, never syntax.
    assert.deepEqual(await found(`q=${encodeURIComponent("beginners' & !(guitar:*")}`), named('lessons'));
    assert.deepEqual(await found(`q=${encodeURIComponent("%_'")}`), []);
  });

  it('finds parts of words', async () => {
    assert.deepEqual(sorted(await found('q=guita')), sorted(named('lessons', 'advanced', 'pasta')));
    assert.deepEqual(await found('q=arist'), named('advanced'), 'the middle of a word');
    assert.deepEqual(await found('q=techniqes'), named('advanced'), 'a near spelling');
  });

  it('finds Chinese and Japanese titles by two characters', async () => {
    assert.deepEqual(await found('q=東京'), named('tokyo'));
    assert.deepEqual(await found('q=料理'), named('washoku'));
    assert.deepEqual(await found('q=夜景'), named('tokyo'));
    assert.deepEqual(await found('q=日本料理'), named('washoku'));
  });

  it('filters by category, duration, upload date and access tier', async () => {
    assert.deepEqual(sorted(await found('category=food')), sorted(named('washoku', 'pasta')));
    assert.deepEqual(
      sorted(await found('min_duration=250&max_duration=700')),
      sorted(named('lessons', 'washoku')),
    );
    assert.deepEqual(sorted(await found('min_duration=600')), sorted(named('advanced', 'washoku')));
    assert.deepEqual(
      sorted(await found('uploaded_from=2026-03-05&uploaded_to=2026-05-01')),
      sorted(named('advanced', 'tokyo', 'washoku')),
    );
    assert.deepEqual(await found('uploaded_to=2026-01-10'), named('lessons'));
    assert.deepEqual(await found('access_tier=1'), named('washoku'));
    assert.deepEqual(await found('access_tier=2&q=guitar'), named('pasta'));
    assert.deepEqual(await found('category=food&q=guitar'), named('pasta'));
  });

  it('sorts by newest and by views', async () => {
    assert.deepEqual(
      await found('sort=newest'),
      named('pasta', 'washoku', 'tokyo', 'advanced', 'lessons'),
      'newest is also the default without words',
    );
    assert.deepEqual(await found(''), await found('sort=newest'));
    assert.deepEqual(await found('sort=views'), named('advanced', 'lessons', 'pasta', 'tokyo', 'washoku'));
    assert.deepEqual(await found('q=guitar&sort=views'), named('advanced', 'lessons', 'pasta'));
    const views = (await search('sort=views')).items.map((v) => v.views_count);
    assert.deepEqual(views, [500, 50, 20, 5, 0]);
  });

  it('pages with a cursor, in every sort, without repeats or gaps', async () => {
    for (const query of ['sort=newest', 'sort=views', 'q=guitar', 'q=guitar&sort=newest']) {
      const whole = await found(`${query}&limit=50`);
      assert.deepEqual(await walk(query, 2), whole, query);
      assert.deepEqual(await walk(query, 1), whole, query);
    }
  });

  it('answers 400 with the field for bad input', async () => {
    const bad = async (query: string) => badFields(await api(t, 'GET', `/api/v1/search?${query}`));
    assert.deepEqual(await bad('sort=relevance'), ['sort']);
    assert.deepEqual(await bad('sort=oldest'), ['sort']);
    assert.deepEqual(await bad('category=cats'), ['category']);
    assert.deepEqual(await bad('min_duration=10&max_duration=5'), ['min_duration']);
    assert.deepEqual(await bad('min_duration=-1'), ['min_duration']);
    assert.deepEqual(await bad('uploaded_from=yesterday'), ['uploaded_from']);
    assert.deepEqual(await bad('uploaded_from=2026-05-01&uploaded_to=2026-04-01'), ['uploaded_from']);
    assert.deepEqual(await bad('access_tier=3'), ['access_tier']);
    assert.deepEqual(await bad('limit=51'), ['limit']);
    assert.deepEqual(await bad('cursor=nonsense'), ['cursor']);
    const { next_cursor } = await search('sort=views&limit=1');
    assert.deepEqual(await bad(`sort=newest&cursor=${next_cursor}`), ['cursor']);
    assert.deepEqual(await bad(`q=${'x'.repeat(201)}`), ['q']);
  });

  it('never finds a hidden, private, unlisted, unpublished, rejected or draft video', async () => {
    assert.deepEqual(await found('q=zebra'), []);
    assert.deepEqual(await found('q=zeb'), []);
    const everything = await walk('sort=newest', 3);
    for (const name of Object.keys(UNLISTED)) assert.ok(!everything.includes(ids[name]!), name);
  });

  it('drops every video of a hidden creator, and finds them again once restored', async () => {
    const other = await registerUser(t);
    const id = await insertVideo(t, other.id, { title: 'Quokka documentary' });
    assert.deepEqual(await found('q=quokka'), [id]);
    const db = t.app.database.db;
    await sql`update users set status = 'hidden' where id = ${other.id}`.execute(db);
    assert.deepEqual(await found('q=quokka'), []);
    await sql`update users set status = 'active' where id = ${other.id}`.execute(db);
    assert.deepEqual(await found('q=quokka'), [id]);
  });

  it('finds a real uploaded video once it is published', async () => {
    const data = await fs.readFile(await makeClip(clips, 'recital', { width: 320, height: 180, seconds: 1 }));
    const id = await uploadVideo(t, creator.access_token, data, { title: 'Harpsichord recital' });
    assert.deepEqual(await found('q=harpsichord'), [], 'not before it can be watched');
    const items = await waitFor(
      'the uploaded video in search',
      async () => {
        const page = await search('q=harpsich');
        return page.items.length ? page.items : undefined;
      },
      60_000,
    );
    assert.equal(items[0]!.id, id);
    assert.ok(items[0]!.title === 'Harpsichord recital');
  });
});
