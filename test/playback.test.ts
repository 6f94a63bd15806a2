import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { uuidv7 } from 'uuidv7';
import { type ApiResponse, api, registerUser, startTestApp, type TestApp } from './helpers/app.ts';
import { assertProblem, badFields } from './helpers/problems.ts';
import { openEvents } from './helpers/sse.ts';
import { uploadVideo } from './helpers/upload.ts';

const IMMUTABLE = 'public, max-age=31536000, immutable';
const counting = (length: number) => Buffer.from(Array.from({ length }, (_, i) => i % 256));

/** Files of one processing run, as the transcoder writes them. */
const FILES: Record<string, { body: Buffer | string; type: string; cache: string }> = {
  'master.m3u8': { body: '#EXTM3U\n', type: 'application/vnd.apple.mpegurl', cache: 'no-cache' },
  'manifest.mpd': { body: '<MPD/>', type: 'application/dash+xml', cache: 'no-cache' },
  '720p/init.mp4': { body: counting(64), type: 'video/mp4', cache: IMMUTABLE },
  '720p/seg-1.m4s': { body: counting(1000), type: 'video/iso.segment', cache: IMMUTABLE },
  'poster.jpg': { body: counting(10), type: 'image/jpeg', cache: IMMUTABLE },
  'thumbs/sprite.webp': { body: counting(10), type: 'image/webp', cache: IMMUTABLE },
  'thumbs/1.png': { body: counting(10), type: 'image/png', cache: IMMUTABLE },
  'thumbs/storyboard.vtt': { body: 'WEBVTT\n', type: 'text/vtt', cache: IMMUTABLE },
  'info.json': { body: '{}', type: 'application/json', cache: 'no-cache' },
};

describe('playback', () => {
  let t: TestApp;
  let storage: string;
  let owner: Awaited<ReturnType<typeof registerUser>>;
  let stranger: Awaited<ReturnType<typeof registerUser>>;
  let ready: { id: string; version: number };
  let processing: { id: string; version: number };

  /**
   * A video uploaded by `user` through the API, then run through processing by hand with the files
   * above (the app has no worker to do it); `finish` marks it ready.
   */
  async function makeVideo(user: { access_token: string }, finish: boolean) {
    const id = await uploadVideo(t, user.access_token, counting(2000), { title: 'Clip' });
    const started = await t.app.videos.runs.startProcessing(id);
    assert.ok(started, 'the upload left the video with a source to process');
    if (finish) await t.app.videos.runs.markReady(id, started.media_version, []);
    for (const [file, { body }] of Object.entries(FILES)) {
      await t.app.store.put(`videos/${id}/${started.media_version}/${file}`, body);
    }
    return { id, version: started.media_version };
  }

  /** A media URL; `epoch` is the video's access epoch, 1 until fewer people may watch it. */
  const mediaPath = (v: { id: string; version: number; epoch?: number }, file: string) =>
    `/media/videos/${v.id}/${v.version}/e${v.epoch ?? 1}/${file}`;

  async function media(
    urlPath: string,
    opts: { method?: string; headers?: Record<string, string>; token?: string } = {},
  ): Promise<{ status: number; headers: Headers; bytes: Buffer }> {
    const headers = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    const res = await fetch(`${t.url}${urlPath}`, { method: opts.method ?? 'GET', headers });
    return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
  }

  /** A request sent as written: fetch would resolve `..` and `%2e%2e` segments before sending. */
  function rawRequest(urlPath: string): Promise<ApiResponse> {
    return new Promise((resolve, reject) => {
      http
        .get(`${t.url}${urlPath}`, { path: urlPath }, async (res) => {
          let text = '';
          for await (const chunk of res) text += chunk;
          const headers = new Headers(res.headers as Record<string, string>);
          resolve({ status: res.statusCode ?? 0, headers, body: JSON.parse(text) });
        })
        .on('error', reject);
    });
  }

  function assertCors(headers: Headers) {
    assert.equal(headers.get('access-control-allow-origin'), '*');
    assert.equal(headers.get('access-control-expose-headers'), 'Content-Length, Content-Range, ETag');
  }

  before(async () => {
    storage = await fs.mkdtemp(path.join(os.tmpdir(), 'vireo-playback-'));
    // No worker: the uploaded videos wait for the processing that makeVideo does by hand.
    t = await startTestApp({ STORAGE_DIR: storage }, { role: 'api' });
    owner = await registerUser(t);
    stranger = await registerUser(t);
    ready = await makeVideo(owner, true);
    processing = await makeVideo(owner, false);
  });
  after(async () => {
    await t?.stop();
    await fs.rm(storage, { recursive: true, force: true });
  });

  it('serves a whole segment with its validators, type, length and cache policy', async () => {
    const key = `videos/${ready.id}/${ready.version}/720p/seg-1.m4s`;
    const stored = await t.app.store.stat(key);
    assert.ok(stored);
    const res = await media(mediaPath(ready, '720p/seg-1.m4s'));
    assert.equal(res.status, 200);
    assert.deepEqual(res.bytes, counting(1000));
    assert.equal(res.headers.get('content-type'), 'video/iso.segment');
    assert.equal(res.headers.get('content-length'), '1000');
    assert.equal(res.headers.get('accept-ranges'), 'bytes');
    assert.equal(res.headers.get('etag'), stored.etag);
    assert.equal(res.headers.get('last-modified'), stored.lastModified.toUTCString());
    assert.equal(res.headers.get('cache-control'), IMMUTABLE);
    assertCors(res.headers);
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const get = await media(mediaPath(ready, '720p/seg-1.m4s'));
    const head = await media(mediaPath(ready, '720p/seg-1.m4s'), { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.bytes.length, 0);
    for (const name of [
      'content-type',
      'content-length',
      'etag',
      'last-modified',
      'cache-control',
      'accept-ranges',
    ]) {
      assert.equal(head.headers.get(name), get.headers.get(name), name);
    }
    assertCors(head.headers);
  });

  it('names the content type and cache policy of every kind of media file', async () => {
    for (const [file, { body, type, cache }] of Object.entries(FILES)) {
      const res = await media(mediaPath(ready, file));
      assert.equal(res.status, 200, file);
      assert.equal(res.headers.get('content-type'), type, file);
      assert.equal(res.headers.get('cache-control'), cache, file);
      assert.deepEqual(res.bytes, Buffer.from(body), file);
    }
  });

  it('serves byte ranges in all three forms', async () => {
    const whole = counting(1000);
    const cases: Array<[string, number, number]> = [
      ['bytes=0-0', 0, 0],
      ['bytes=0-99', 0, 99],
      ['bytes=500-599', 500, 599],
      ['bytes=999-999', 999, 999],
      ['bytes=990-', 990, 999],
      ['bytes=-10', 990, 999],
      ['bytes=-5000', 0, 999],
      ['bytes=900-5000', 900, 999],
    ];
    for (const [range, start, end] of cases) {
      const res = await media(mediaPath(ready, '720p/seg-1.m4s'), { headers: { range } });
      assert.equal(res.status, 206, range);
      assert.equal(res.headers.get('content-range'), `bytes ${start}-${end}/1000`, range);
      assert.equal(res.headers.get('content-length'), String(end - start + 1), range);
      assert.equal(res.headers.get('content-type'), 'video/iso.segment', range);
      assert.deepEqual(res.bytes, whole.subarray(start, end + 1), range);
      assertCors(res.headers);
    }
  });

  it('answers 416 with the size for a range past the end', async () => {
    for (const range of ['bytes=1000-', 'bytes=1000-2000', 'bytes=-0']) {
      const res = await api(t, 'GET', mediaPath(ready, '720p/seg-1.m4s'), { headers: { range } });
      assertProblem(res, 416, 'RANGE_NOT_SATISFIABLE');
      assert.equal(res.headers.get('content-range'), 'bytes */1000', range);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assertCors(res.headers);
    }
  });

  it('sends the whole file for a Range it does not serve (invalid, several ranges, other unit)', async () => {
    for (const range of ['bytes=5-2', 'bytes=0-1,5-6', 'items=0-1']) {
      const res = await media(mediaPath(ready, '720p/seg-1.m4s'), { headers: { range } });
      assert.equal(res.status, 200, range);
      assert.equal(res.bytes.length, 1000, range);
    }
  });

  it('answers 304 to If-None-Match and If-Modified-Since when the file is unchanged', async () => {
    const file = mediaPath(ready, '720p/seg-1.m4s');
    const first = await media(file);
    const etag = first.headers.get('etag')!;
    for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const res = await media(file, { headers: { 'if-none-match': ifNoneMatch } });
      assert.equal(res.status, 304, ifNoneMatch);
      assert.equal(res.bytes.length, 0);
      assert.equal(res.headers.get('etag'), etag);
      assert.equal(res.headers.get('cache-control'), IMMUTABLE);
    }
    const withRange = await media(file, { headers: { 'if-none-match': etag, range: 'bytes=0-9' } });
    assert.equal(withRange.status, 304, 'the condition is checked before the range');
    const changed = await media(file, { headers: { 'if-none-match': '"something-else"' } });
    assert.equal(changed.status, 200);
    assert.equal(changed.bytes.length, 1000);
    const since = await media(file, {
      headers: { 'if-modified-since': first.headers.get('last-modified')! },
    });
    assert.equal(since.status, 304);
    const before = await media(file, { headers: { 'if-modified-since': new Date(0).toUTCString() } });
    assert.equal(before.status, 200);
  });

  it('honours If-Range: a range of the current file, the whole file when it changed', async () => {
    const file = mediaPath(ready, '720p/seg-1.m4s');
    const etag = (await media(file, { method: 'HEAD' })).headers.get('etag')!;
    const current = await media(file, { headers: { range: 'bytes=0-9', 'if-range': etag } });
    assert.equal(current.status, 206);
    const stale = await media(file, { headers: { range: 'bytes=0-9', 'if-range': '"stale"' } });
    assert.equal(stale.status, 200);
    assert.equal(stale.bytes.length, 1000);
  });

  it('serves a playlist rewritten while it grows with its new validators', async () => {
    const key = `videos/${ready.id}/${ready.version}/live.m3u8`;
    await t.app.store.put(key, '#EXTM3U\n');
    const first = await media(mediaPath(ready, 'live.m3u8'));
    await t.app.store.put(key, '#EXTM3U\n#EXTINF:4,\nseg-1.m4s\n');
    const second = await media(mediaPath(ready, 'live.m3u8'), {
      headers: { 'if-none-match': first.headers.get('etag')! },
    });
    assert.equal(second.status, 200);
    assert.notEqual(second.headers.get('etag'), first.headers.get('etag'));
    assert.match(second.bytes.toString(), /seg-1\.m4s/);
    assert.equal(second.headers.get('cache-control'), 'no-cache');
  });

  it('streams a large file whole', async () => {
    const big = counting(3 * 1024 * 1024 + 17);
    await t.app.store.put(`videos/${ready.id}/${ready.version}/1080p/seg-9.m4s`, big);
    const res = await media(mediaPath(ready, '1080p/seg-9.m4s'));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), String(big.length));
    assert.ok(res.bytes.equals(big));
    const tail = await media(mediaPath(ready, '1080p/seg-9.m4s'), { headers: { range: 'bytes=-17' } });
    assert.ok(tail.bytes.equals(big.subarray(big.length - 17)));
  });

  it('answers the CORS preflight, Range allowed', async () => {
    const res = await media(mediaPath(ready, '720p/seg-1.m4s'), {
      method: 'OPTIONS',
      headers: {
        origin: 'https://player.example',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'range',
      },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.match(res.headers.get('access-control-allow-methods') ?? '', /GET/);
    assert.match(res.headers.get('access-control-allow-methods') ?? '', /HEAD/);
    assert.match(res.headers.get('access-control-allow-headers') ?? '', /\bRange\b/i);
    assert.ok(Number(res.headers.get('access-control-max-age')) > 0);
  });

  it('answers 404 NOT_FOUND for a file the version does not have', async () => {
    for (const file of ['720p/seg-404.m4s', '720p', 'thumbs/1.png/x.png']) {
      const res = await api(t, 'GET', mediaPath(ready, file));
      assertProblem(res, 404, 'NOT_FOUND');
      assert.equal(
        res.headers.get('cache-control'),
        'no-store',
        'a later file must not be hidden by a cache',
      );
      assertCors(res.headers);
    }
    const otherVersion = await api(
      t,
      'GET',
      mediaPath({ ...ready, version: ready.version + 1 }, 'master.m3u8'),
    );
    assertProblem(otherVersion, 404, 'NOT_FOUND');
  });

  it('answers 404 VIDEO_NOT_FOUND for an unknown video', async () => {
    const res = await api(t, 'GET', mediaPath({ id: uuidv7(), version: 1 }, 'master.m3u8'));
    assertProblem(res, 404, 'VIDEO_NOT_FOUND');
    assertCors(res.headers);
    const head = await media(mediaPath({ id: uuidv7(), version: 1 }, 'master.m3u8'), { method: 'HEAD' });
    assert.equal(head.status, 404);
  });

  it('hides a video still processing from everyone but its owner', async () => {
    const file = mediaPath(processing, '720p/seg-1.m4s');
    assertProblem(await api(t, 'GET', file), 404, 'VIDEO_NOT_FOUND');
    assertProblem(await api(t, 'GET', file, { token: stranger.access_token }), 404, 'VIDEO_NOT_FOUND');
    const mine = await media(file, { token: owner.access_token });
    assert.equal(mine.status, 200);
    assert.deepEqual(mine.bytes, counting(1000));
    // Served only because of the token: a shared cache must not keep it for others.
    assert.equal(mine.headers.get('cache-control'), 'private, max-age=31536000, immutable');
    // A playlist served to the owner passes a playback token on to its URIs: it is never stored.
    const playlist = await media(mediaPath(processing, 'master.m3u8'), { token: owner.access_token });
    assert.equal(playlist.headers.get('cache-control'), 'private, no-store');
    // A ready video stays public for a signed-in caller.
    const shared = await media(mediaPath(ready, '720p/seg-1.m4s'), { token: owner.access_token });
    assert.equal(shared.headers.get('cache-control'), IMMUTABLE);
    // A token the auth guard refuses still gets CORS headers, so a player can read why.
    const refused = await api(t, 'GET', mediaPath(ready, 'master.m3u8'), { token: 'not-a-token' });
    assertProblem(refused, 401, 'TOKEN_INVALID');
    assertCors(refused.headers);
  });

  it('moves the URLs of a public video when fewer may watch it, and serves the old ones no more', async () => {
    const v = await makeVideo(owner, true);
    const setVisibility = async (visibility: string) => {
      const res = await api(t, 'PATCH', `/api/v1/videos/${v.id}`, {
        token: owner.access_token,
        body: { visibility },
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    };
    /** The folder of the media URLs anyone is handed now. */
    const base = async () => {
      const res = await api(t, 'GET', `/api/v1/videos/${v.id}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.playback.hls.split('?')[0].replace(/hls\/master\.m3u8$/, '');
    };
    const first = await base();
    const cached = await media(`${first}720p/seg-1.m4s`);
    assert.equal(cached.status, 200);
    assert.equal(cached.headers.get('cache-control'), IMMUTABLE, 'shared caches keep it');

    await setVisibility('private');
    assertProblem(await api(t, 'GET', `${first}720p/seg-1.m4s`), 404, 'VIDEO_NOT_FOUND');
    const ownersOld = await api(t, 'GET', `${first}720p/seg-1.m4s`, { token: owner.access_token });
    assertProblem(ownersOld, 404, 'MEDIA_URL_OUTDATED');
    assert.equal(ownersOld.headers.get('cache-control'), 'no-store');

    // Public again: new URLs, which no cache can have kept from before; the old ones stay refused.
    await setVisibility('public');
    const second = await base();
    assert.notEqual(second, first);
    const fresh = await media(`${second}720p/seg-1.m4s`);
    assert.equal(fresh.status, 200);
    assert.equal(fresh.headers.get('cache-control'), IMMUTABLE);
    for (const file of ['720p/seg-1.m4s', 'master.m3u8', 'poster.jpg']) {
      assertProblem(await api(t, 'GET', `${first}${file}`), 404, 'MEDIA_URL_OUTDATED');
    }

    // Unlisted is fewer people too; made public from unlisted or private, the URLs stay.
    await setVisibility('unlisted');
    const third = await base();
    assert.notEqual(third, second);
    assertProblem(await api(t, 'GET', `${second}720p/seg-1.m4s`), 404, 'VIDEO_NOT_FOUND');
    await setVisibility('public');
    assert.equal(await base(), third);
    const again = await media(`${third}720p/seg-1.m4s`);
    assert.equal(again.status, 200);
    assert.equal(again.headers.get('cache-control'), IMMUTABLE);
  });

  it('ends an event stream opened while the video was public once it is private', async () => {
    const v = await makeVideo(owner, false);
    await t.app.videos.runs.markPlayable(v.id, v.version);
    const url = `${t.url}/api/v1/videos/${v.id}/events`;
    const anyone = await openEvents(url);
    const stranger_ = await openEvents(url, stranger.access_token);
    const mine = await openEvents(url, owner.access_token);
    try {
      for (const stream of [anyone, stranger_, mine]) await stream.until('playable');
      assert.equal(await anyone.end(300), 'open', 'a playable video streams on');

      const res = await api(t, 'PATCH', `/api/v1/videos/${v.id}`, {
        token: owner.access_token,
        body: { visibility: 'private' },
      });
      assert.equal(res.status, 200);
      assert.equal(await anyone.end(5000), 'ended');
      assert.equal(await stranger_.end(5000), 'ended');
      // The owner may still watch: their stream goes on and hears what follows.
      assert.equal(await mine.end(300), 'open');
      await t.app.videos.runs.markReady(v.id, v.version, []);
      await mine.until('ready');
      assert.equal(await mine.end(5000), 'ended');
      assert.ok(!anyone.events.some((e) => e.event === 'ready'), 'nothing after the change');
    } finally {
      for (const stream of [anyone, stranger_, mine]) stream.close();
    }
  });

  it('refuses paths that leave the version folder or use other characters', async () => {
    const base = `/media/videos/${ready.id}/${ready.version}/e1`;
    await t.app.store.put(`videos/${ready.id}/secret.json`, '{"secret":true}');
    for (const urlPath of [
      `${base}/../secret.json`,
      `${base}/%2e%2e/secret.json`,
      `${base}/720p/../../secret.json`,
      `${base}/..%2F..%2Fsecret.json`,
      `${base}/720p%2F..%2F..%2Fsecret.json`,
      `${base}/a..b.m4s`,
      `${base}/seg%20one.m4s`,
      `${base}/a%5Cb.m4s`,
      `${base}/720p//seg-1.m4s`,
      `${base}/./master.m3u8`,
      `${base}/`,
    ]) {
      const res = await rawRequest(urlPath);
      assert.deepEqual(badFields(res), ['path'], urlPath);
      assert.doesNotMatch(JSON.stringify(res.body), /secret":true/);
    }
  });

  it('refuses a malformed video id, version or access epoch, naming the field', async () => {
    assert.deepEqual(badFields(await api(t, 'GET', '/media/videos/not-a-uuid/1/e1/master.m3u8')), ['id']);
    for (const version of ['0', '-1', 'abc', '1.5', '01']) {
      const res = await api(t, 'GET', `/media/videos/${ready.id}/${version}/e1/master.m3u8`);
      assert.deepEqual(badFields(res), ['version'], version);
    }
    for (const epoch of ['1', 'e0', 'e01', 'e-1', 'E1', 'e', 'hls']) {
      const res = await api(t, 'GET', `/media/videos/${ready.id}/${ready.version}/${epoch}/master.m3u8`);
      assert.deepEqual(badFields(res), ['epoch'], epoch);
    }
  });

  it("answers 404 for the store's own files (names starting with a dot), never 500", async () => {
    for (const urlPath of [
      `/media/videos/${ready.id}/${ready.version}/.partial-abc`,
      mediaPath(ready, '.partial-abc'),
      mediaPath(ready, '720p/.partial-0123456789abcdef'),
      mediaPath(ready, '.hidden/seg-1.m4s'),
    ]) {
      for (const method of ['GET', 'HEAD']) {
        const res = await api(t, method, urlPath);
        assert.equal(res.status, 404, `${method} ${urlPath}: ${JSON.stringify(res.body)}`);
        if (method === 'GET') assertProblem(res, 404, 'NOT_FOUND');
      }
    }
  });
});
