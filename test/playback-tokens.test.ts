// Signed playback of videos that are not public, through the real server and a clip processed by real
// ffmpeg: the URLs of GET /api/v1/videos/{id} carry a token, every playlist Vireo serves passes it on,
// and media without a valid token is refused.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { uuidv7 } from 'uuidv7';
import { PlaybackTokens } from '../src/modules/videos/index.ts';
import { type ApiResponse, api, registerUser, startTestApp, type TestApp } from './helpers/app.ts';
import { makeClip, tempDir } from './helpers/media.ts';
import { assertProblem } from './helpers/problems.ts';
import { readEvents } from './helpers/sse.ts';
import { TEST_JWT_SECRET } from './helpers/tokens.ts';
import { uploadVideo } from './helpers/upload.ts';

const PRIVATE_SEGMENT = 'private, max-age=31536000, immutable';

describe('signed playback', () => {
  let t: TestApp;
  let clips: string;
  let owner: Awaited<ReturnType<typeof registerUser>>;
  let stranger: Awaited<ReturnType<typeof registerUser>>;
  let id: string;
  let version: number;
  /** The video's access epoch, as its current URLs carry it. */
  let epoch: number;
  /** Signs tokens as the server does: same platform secret, same purpose key. */
  const forger = PlaybackTokens.fromSecret(TEST_JWT_SECRET, 3600);

  interface Fetched {
    status: number;
    headers: Headers;
    text: string;
    url: URL;
  }

  async function get(url: string | URL, opts: { token?: string; method?: string } = {}): Promise<Fetched> {
    const absolute = new URL(url, t.url);
    const headers: Record<string, string> = opts.token ? { authorization: `Bearer ${opts.token}` } : {};
    const res = await fetch(absolute, { method: opts.method ?? 'GET', headers });
    return { status: res.status, headers: res.headers, text: await res.text(), url: absolute };
  }

  /** A media request answered as problem+json, in the shape assertProblem reads. */
  async function refused(url: string | URL, status: number, code: string, token?: string): Promise<void> {
    const res = await get(url, { token });
    let body: unknown = res.text.slice(0, 200);
    try {
      body = JSON.parse(res.text);
    } catch {
      // not a problem+json answer: assertProblem says what came instead
    }
    const answer: ApiResponse = { status: res.status, headers: res.headers, body };
    assertProblem(answer, status, code);
    assert.equal(res.headers.get('access-control-allow-origin'), '*', 'a player can read why');
    assert.equal(res.headers.get('cache-control'), 'no-store');
  }

  async function setVisibility(visibility: string) {
    const res = await api(t, 'PATCH', `/api/v1/videos/${id}`, {
      token: owner.access_token,
      body: { visibility },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    epoch = epochOf(res.body.playback.hls);
  }

  const epochOf = (url: string) => Number(/\/media\/videos\/[^/]+\/\d+\/e(\d+)\//.exec(url)![1]);

  const video = (token?: string) => api(t, 'GET', `/api/v1/videos/${id}`, { token });
  const mediaUrl = (file: string, token?: string) =>
    `/media/videos/${id}/${version}/e${epoch}/${file}${token === undefined ? '' : `?token=${token}`}`;
  const tokenOf = (url: string) => new URL(url, t.url).searchParams.get('token');

  /** URIs in an HLS playlist: URI lines and URI attributes of tags. */
  function hlsUris(text: string): string[] {
    const lines = text.split('\n').map((l) => l.trim());
    return [
      ...lines.flatMap((l) =>
        l.startsWith('#EXT') ? [...l.matchAll(/URI="([^"]*)"/g)].map((m) => m[1]!) : [],
      ),
      ...lines.filter((l) => l !== '' && !l.startsWith('#')),
    ];
  }

  /** Follows a master playlist as a player does; answers every URL fetched, each checked 200. */
  async function walkHls(masterUrl: string, token: string): Promise<URL[]> {
    const master = await get(masterUrl);
    assert.equal(master.status, 200, master.text);
    assert.equal(master.headers.get('cache-control'), 'private, no-store');
    const fetched = [master.url];
    const playlists = hlsUris(master.text);
    assert.ok(playlists.length >= 2, master.text);
    for (const uri of playlists) {
      assert.equal(tokenOf(new URL(uri, master.url).href), token, uri);
      const list = await get(new URL(uri, master.url));
      assert.equal(list.status, 200, `${uri}: ${list.text}`);
      assert.equal(list.headers.get('content-type'), 'application/vnd.apple.mpegurl');
      assert.equal(list.headers.get('cache-control'), 'private, no-store');
      assert.match(list.text, /#EXT-X-MAP:URI=/);
      fetched.push(list.url);
      for (const media of hlsUris(list.text)) {
        const url = new URL(media, list.url);
        assert.equal(tokenOf(url.href), token, media);
        const part = await get(url);
        assert.equal(part.status, 200, `${media}: ${part.text}`);
        assert.equal(part.headers.get('cache-control'), PRIVATE_SEGMENT);
        fetched.push(url);
      }
    }
    return fetched;
  }

  before(async () => {
    t = await startTestApp({
      JWT_SECRET: TEST_JWT_SECRET,
      LADDER_RUNGS: '240,360',
      SEGMENT_SECONDS: '1',
      ENCODE_PRESET: 'ultrafast',
      ENCODE_CRF: '35',
    });
    clips = await tempDir();
    owner = await registerUser(t);
    stranger = await registerUser(t);
    const file = await makeClip(clips, 'clip', { width: 640, height: 360, seconds: 2 });
    id = await uploadVideo(t, owner.access_token, file, { title: 'Private clip' });
    const events = await readEvents(`${t.url}/api/v1/videos/${id}/events`, owner.access_token);
    assert.equal(events.at(-1)?.event, 'ready', JSON.stringify(events.at(-1)));
    await setVisibility('private');
    const body = (await video(owner.access_token)).body;
    version = Number(/\/media\/videos\/[^/]+\/(\d+)\//.exec(body.playback.hls)![1]);
  });
  after(async () => {
    await t?.stop();
    if (clips) await fs.rm(clips, { recursive: true, force: true });
  });

  it('refuses the playlists and segments of a private video without a token', async () => {
    await setVisibility('private');
    assertProblem(await video(), 404, 'VIDEO_NOT_FOUND');
    for (const file of [
      'hls/master.m3u8',
      'hls/240p/index.m3u8',
      'hls/240p/seg_00000.m4s',
      'dash/manifest.mpd',
    ]) {
      await refused(mediaUrl(file), 404, 'VIDEO_NOT_FOUND');
      // A signed-in viewer who is not the owner needs one too.
      await refused(mediaUrl(file), 404, 'VIDEO_NOT_FOUND', stranger.access_token);
    }
    await refused(mediaUrl('images/poster.jpg'), 404, 'VIDEO_NOT_FOUND');
  });

  it('answers for a private video without a token exactly as for a missing one', async () => {
    await setVisibility('private');
    const missing = uuidv7();
    for (const file of ['hls/master.m3u8', 'hls/240p/seg_00000.m4s', 'images/poster.jpg']) {
      for (const bearer of [undefined, stranger.access_token]) {
        const mine = await get(mediaUrl(file), { token: bearer });
        const none = await get(mediaUrl(file).replace(id, missing), { token: bearer });
        assert.equal(mine.status, none.status, file);
        const a = JSON.parse(mine.text);
        const b = JSON.parse(none.text);
        assert.equal(a.code, 'VIDEO_NOT_FOUND', mine.text);
        for (const answer of [a, b]) {
          delete answer.instance;
          delete answer.request_id;
        }
        assert.deepEqual(a, b, file);
        for (const header of ['content-type', 'cache-control', 'access-control-allow-origin']) {
          assert.equal(mine.headers.get(header), none.headers.get(header), header);
        }
      }
    }
  });

  it('plays a private video from the URLs the owner gets: every URI carries the token and answers', async () => {
    await setVisibility('private');
    const { body } = await video(owner.access_token);
    const { hls, dash, poster, storyboard_vtt, expires_at } = body.playback;
    const stream = tokenOf(hls)!;
    assert.ok(stream);
    assert.equal(tokenOf(dash), stream);
    const image = tokenOf(poster)!;
    assert.ok(image && image !== stream, 'images have a token of their own kind');
    assert.equal(tokenOf(storyboard_vtt), image);
    const lifetimeS = (Date.parse(expires_at) - Date.now()) / 1000;
    assert.ok(lifetimeS > 21_600 - 60 && lifetimeS <= 21_600 + 300, String(lifetimeS));

    const fetched = await walkHls(hls, stream);
    const names = fetched.map((u) => u.pathname.split(`/${version}/e${epoch}/`)[1]);
    for (const rung of ['240p', '360p', 'audio']) {
      assert.ok(names.includes(`hls/${rung}/index.m3u8`), rung);
      assert.ok(names.includes(`hls/${rung}/init.mp4`), rung);
      assert.ok(names.includes(`hls/${rung}/seg_00001.m4s`), `${rung}: ${names.join(' ')}`);
    }

    // HEAD describes the rewritten playlist the GET sends.
    const master = await get(hls);
    const head = await get(hls, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    assert.equal(head.headers.get('content-length'), String(Buffer.byteLength(master.text)));

    // DASH: the manifest's templates carry the token onto the very segments HLS serves.
    const mpd = await get(dash);
    assert.equal(mpd.status, 200, mpd.text);
    assert.equal(mpd.headers.get('cache-control'), 'private, no-store');
    const templates = [...mpd.text.matchAll(/\s(initialization|media)="([^"]*)"/g)].map((m) => m[2]!);
    assert.equal(templates.length, 6, mpd.text);
    for (const template of templates) {
      const first = new URL(template.replace('$Number%05d$', '00000'), mpd.url);
      assert.equal(first.searchParams.get('token'), stream, template);
      assert.equal((await get(first)).status, 200, first.href);
    }

    // The storyboard's cues point into its sprite with the image token.
    const vtt = await get(storyboard_vtt);
    assert.equal(vtt.status, 200, vtt.text);
    assert.equal(vtt.headers.get('cache-control'), 'private, no-store');
    const cue = /^(storyboard\.jpg\?token=[^#\s]+)#xywh=/m.exec(vtt.text);
    assert.ok(cue, vtt.text);
    const sprite = await get(new URL(cue[1]!, vtt.url));
    assert.equal(sprite.status, 200);
    assert.equal(sprite.headers.get('content-type'), 'image/jpeg');
    assert.equal((await get(poster)).status, 200);
  });

  it('refuses a token of another video, version or kind, and a changed one', async () => {
    await setVisibility('private');
    const { body } = await video(owner.access_token);
    const stream = tokenOf(body.playback.hls)!;
    const image = tokenOf(body.playback.poster)!;
    const segment = 'hls/240p/seg_00000.m4s';

    // Another private video of the same owner, with its own real token.
    const clip = await makeClip(clips, 'other', { seconds: 1, audio: false });
    const other = { id: await uploadVideo(t, owner.access_token, clip, { title: 'Other' }) };
    const processed = await readEvents(`${t.url}/api/v1/videos/${other.id}/events`, owner.access_token);
    assert.equal(processed.at(-1)?.event, 'ready', JSON.stringify(processed.at(-1)));
    await api(t, 'PATCH', `/api/v1/videos/${other.id}`, {
      token: owner.access_token,
      body: { visibility: 'private' },
    });
    const foreign = tokenOf(
      (await api(t, 'GET', `/api/v1/videos/${other.id}`, { token: owner.access_token })).body.playback.hls,
    )!;
    assert.ok(foreign && foreign !== stream);

    for (const file of ['hls/master.m3u8', segment]) {
      await refused(mediaUrl(file, foreign), 403, 'PLAYBACK_TOKEN_INVALID');
      await refused(mediaUrl(file, image), 403, 'PLAYBACK_TOKEN_INVALID');
      const otherVersion = forger.sign(
        { videoId: id, version: version + 1, epoch, kind: 'stream' },
        new Date(Date.now() + 60_000),
      );
      await refused(mediaUrl(file, otherVersion), 403, 'PLAYBACK_TOKEN_INVALID');
      const changed = `${stream.slice(0, 10)}${stream[10] === 'A' ? 'B' : 'A'}${stream.slice(11)}`;
      await refused(mediaUrl(file, changed), 403, 'PLAYBACK_TOKEN_INVALID');
      await refused(mediaUrl(file, 'not-a-token'), 403, 'PLAYBACK_TOKEN_INVALID');
      await refused(mediaUrl(file, ''), 403, 'PLAYBACK_TOKEN_INVALID');
    }
    // A stream token cannot fetch images either.
    await refused(mediaUrl('images/poster.jpg', stream), 403, 'PLAYBACK_TOKEN_INVALID');
    // The right token still works, segment included.
    assert.equal((await get(mediaUrl(segment, stream))).status, 200);
  });

  it('refuses an expired token on playlists and segments alike', async () => {
    await setVisibility('private');
    const expired = forger.sign({ videoId: id, version, epoch, kind: 'stream' }, new Date(Date.now() - 1000));
    for (const file of [
      'hls/master.m3u8',
      'hls/240p/index.m3u8',
      'hls/240p/seg_00000.m4s',
      'dash/manifest.mpd',
    ]) {
      await refused(mediaUrl(file, expired), 403, 'PLAYBACK_TOKEN_EXPIRED');
    }
    const fresh = forger.sign({ videoId: id, version, epoch, kind: 'stream' }, new Date(Date.now() + 60_000));
    assert.equal((await get(mediaUrl('hls/240p/seg_00000.m4s', fresh))).status, 200);
  });

  it('treats an unlisted video like a private one, except that anyone may get its URLs', async () => {
    await setVisibility('unlisted');
    const { status, body } = await video();
    assert.equal(status, 200);
    const stream = tokenOf(body.playback.hls)!;
    assert.ok(stream);
    assert.ok(body.playback.expires_at);
    await refused(mediaUrl('hls/master.m3u8'), 404, 'VIDEO_NOT_FOUND');
    await refused(mediaUrl('hls/240p/seg_00000.m4s'), 404, 'VIDEO_NOT_FOUND');
    await walkHls(body.playback.hls, stream);
  });

  it('stops a token handed out while unlisted once the video is private; the owner gets new URLs', async () => {
    await setVisibility('unlisted');
    const { body } = await video();
    const stream = tokenOf(body.playback.hls)!;
    const old = await walkHls(body.playback.hls, stream);
    const oldPoster = body.playback.poster;
    assert.equal((await get(oldPoster)).status, 200);

    await setVisibility('private');
    // Every URL the viewer was given or found in a playlist, the token on it included, is refused.
    for (const url of [...old, new URL(oldPoster, t.url)]) {
      await refused(url, 404, 'MEDIA_URL_OUTDATED');
    }
    // The old token on the video's new URLs is refused too.
    for (const file of ['hls/master.m3u8', 'hls/240p/index.m3u8', 'hls/240p/seg_00000.m4s']) {
      await refused(mediaUrl(file, stream), 403, 'PLAYBACK_TOKEN_INVALID');
    }
    // Made unlisted again, the video has new URLs; those from before stay refused.
    await setVisibility('unlisted');
    await refused(old.at(-1)!, 404, 'MEDIA_URL_OUTDATED');
    await refused(mediaUrl('hls/240p/seg_00000.m4s', stream), 403, 'PLAYBACK_TOKEN_INVALID');

    await setVisibility('private');
    const mine = (await video(owner.access_token)).body.playback;
    const fresh = tokenOf(mine.hls)!;
    assert.notEqual(fresh, stream);
    assert.notEqual(mine.hls.split('?')[0], body.playback.hls.split('?')[0], 'the URLs changed');
    await walkHls(mine.hls, fresh);
    assert.equal((await get(mine.poster)).status, 200);
  });

  it("lets the owner's bearer token alone fetch media, passing a fresh token on in playlists", async () => {
    await setVisibility('private');
    const master = await get(mediaUrl('hls/master.m3u8'), { token: owner.access_token });
    assert.equal(master.status, 200, master.text);
    assert.equal(master.headers.get('cache-control'), 'private, no-store');
    const variant = hlsUris(master.text).find((u) => u.startsWith('240p/'))!;
    const token = tokenOf(new URL(variant, master.url).href)!;
    assert.ok(token);
    // A player sends no bearer token past the first request.
    await walkHls(mediaUrl('hls/master.m3u8', token), token);
  });

  it('serves a video made public without tokens, and its URLs carry none', async () => {
    await setVisibility('private');
    const stale = tokenOf((await video(owner.access_token)).body.playback.hls)!;
    await setVisibility('public');
    const { body } = await video();
    assert.equal(body.playback.expires_at, null);
    assert.equal(tokenOf(body.playback.hls), null);
    assert.equal(tokenOf(body.playback.poster), null);
    const master = await get(body.playback.hls);
    assert.equal(master.status, 200);
    assert.equal(master.headers.get('cache-control'), 'no-cache');
    assert.doesNotMatch(master.text, /token=/);
    const segment = await get(mediaUrl('hls/240p/seg_00000.m4s'));
    assert.equal(segment.status, 200);
    assert.equal(segment.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    // A player still holding URLs from before keeps playing: a public video ignores tokens.
    assert.equal((await get(mediaUrl('hls/240p/seg_00000.m4s', stale))).status, 200);
    assert.equal((await get(mediaUrl('hls/240p/seg_00000.m4s', 'junk'))).status, 200);
    // And private again: tokenless access ends at once.
    await setVisibility('private');
    await refused(mediaUrl('hls/240p/seg_00000.m4s'), 404, 'VIDEO_NOT_FOUND');
  });

  it('answers 404 for an unknown video before asking for a token', async () => {
    await refused(`/media/videos/${uuidv7()}/1/e1/hls/master.m3u8`, 404, 'VIDEO_NOT_FOUND');
  });
});
