// A video's own thumbnail: an uploaded picture or a chosen frame, stored as a 1280x720 WebP in the
// video's media tree, served under its access rules, shown by the video, its channel's list, and gone
// with the video.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { mediaTools } from '../src/platform/media/tools.ts';
import { api, registerUser, startTestApp, type TestApp } from './helpers/app.ts';
import { makeClip, tempDir } from './helpers/media.ts';
import { assertProblem } from './helpers/problems.ts';
import { uploadVideo } from './helpers/upload.ts';
import { eventsOf } from './helpers/videos.ts';
import { waitFor } from './helpers/wait.ts';

const run = promisify(execFile);

let t: TestApp;
let dir: string;
let clip: string;
let png: Buffer;
before(async () => {
  t = await startTestApp({
    LADDER_RUNGS: '240',
    SEGMENT_SECONDS: '2',
    ENCODE_PRESET: 'ultrafast',
    REGISTER_LIMIT_PER_IP: '1000',
  });
  dir = await tempDir();
  clip = await makeClip(dir, 'clip', { width: 320, height: 240, seconds: 3, audio: false });
  const file = path.join(dir, 'red.png');
  await run(mediaTools().ffmpeg, [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    'color=red:s=64x48',
    '-frames:v',
    '1',
    file,
  ]);
  png = await fs.readFile(file);
});
after(async () => {
  await t.stop();
  await fs.rm(dir, { recursive: true, force: true });
});

const getVideo = async (id: string, token?: string) => {
  const res = await api(t, 'GET', `/api/v1/videos/${id}`, { token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
};

let titles = 0;
async function readyVideo(owner: { access_token: string }, title = `Clip ${++titles}`): Promise<string> {
  const id = await uploadVideo(t, owner.access_token, clip, { title });
  await waitFor(
    'the video to be ready',
    async () => (await getVideo(id, owner.access_token)).status === 'ready',
    60_000,
  );
  return id;
}

const putThumbnail = (id: string, token: string | undefined, body: Buffer | string, type = 'image/png') =>
  fetch(`${t.url}/api/v1/videos/${id}/thumbnail`, {
    method: 'PUT',
    headers: { 'content-type': type, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });

/** Fetches an image URL and answers its content type and size as ffprobe reads it. */
async function image(
  url: string,
): Promise<{ status: number; type: string | null; codec?: string; size?: string }> {
  const res = await fetch(`${t.url}${url}`);
  if (res.status !== 200) return { status: res.status, type: res.headers.get('content-type') };
  const file = path.join(dir, `img-${Date.now()}`);
  await fs.writeFile(file, new Uint8Array(await res.arrayBuffer()));
  const { stdout } = await run(mediaTools().ffprobe, [
    '-v',
    'error',
    '-show_entries',
    'stream=codec_name,width,height',
    '-of',
    'json',
    file,
  ]);
  const [s] = JSON.parse(stdout).streams;
  return {
    status: 200,
    type: res.headers.get('content-type'),
    codec: s.codec_name,
    size: `${s.width}x${s.height}`,
  };
}

const customKeys = async (id: string) =>
  (await t.app.store.list(`videos/${id}/thumbnails/`)).map((o) => o.key);

describe('a video thumbnail', () => {
  it('uploaded by the owner is served as a 1280x720 WebP, replaces the last one, and goes back to the poster', async () => {
    const owner = await registerUser(t);
    const title = 'Sunset over the harbour';
    const id = await readyVideo(owner, title);
    const before = await getVideo(id);
    assert.match(before.thumbnail_url, /\/images\/poster\.jpg$/);

    const res = await putThumbnail(id, owner.access_token, png);
    assert.equal(res.status, 200, await res.clone().text());
    const body = await res.json();
    assert.match(body.thumbnail_url, /\/thumbnails\/custom-[a-z0-9]+\.webp$/);
    assert.deepEqual(await image(body.thumbnail_url), {
      status: 200,
      type: 'image/webp',
      codec: 'webp',
      size: '1280x720',
    });
    // Anyone who may watch sees it, and the channel's list shows it.
    assert.equal((await getVideo(id)).thumbnail_url, body.thumbnail_url);
    const me = await api(t, 'GET', '/api/v1/users/me', { token: owner.access_token });
    const list = await api(t, 'GET', `/api/v1/channels/${me.body.channel_id}/videos`);
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.equal(list.body.items.find((v: { id: string }) => v.id === id)?.thumbnail_url, body.thumbnail_url);
    // Search answers show it as well (its cache drops on the change).
    await waitFor('search to show the thumbnail', async () => {
      const found = await api(t, 'GET', `/api/v1/search?q=${encodeURIComponent(title)}`);
      return found.body.items?.find((v: { id: string }) => v.id === id)?.thumbnail_url === body.thumbnail_url;
    });
    const updates = (await eventsOf(t, id)).filter((e) => e.type === 'video.updated');
    assert.deepEqual(
      updates.map((e) => e.payload.fields),
      [['thumbnail']],
    );
    const first = await customKeys(id);
    assert.equal(first.length, 1);

    // A second picture takes a new name; the first object is gone.
    const again = await (await putThumbnail(id, owner.access_token, png)).json();
    assert.notEqual(again.thumbnail_url, body.thumbnail_url);
    const second = await customKeys(id);
    assert.equal(second.length, 1);
    assert.notDeepEqual(second, first);
    assert.equal((await image(body.thumbnail_url)).status, 404);

    const removed = await api(t, 'DELETE', `/api/v1/videos/${id}/thumbnail`, { token: owner.access_token });
    assert.equal(removed.status, 200, JSON.stringify(removed.body));
    assert.equal(removed.body.thumbnail_url, before.thumbnail_url);
    assert.deepEqual(await customKeys(id), []);
  });

  it('of a private video is served with a playback token only', async () => {
    const owner = await registerUser(t);
    const id = await readyVideo(owner);
    const edit = await api(t, 'PATCH', `/api/v1/videos/${id}`, {
      token: owner.access_token,
      body: { visibility: 'private' },
    });
    assert.equal(edit.status, 200, JSON.stringify(edit.body));
    assert.equal((await putThumbnail(id, owner.access_token, png)).status, 200);
    const { thumbnail_url } = await getVideo(id, owner.access_token);
    assert.match(thumbnail_url, /\/thumbnails\/custom-[a-z0-9]+\.webp\?token=/);
    assert.equal((await image(thumbnail_url)).status, 200);
    assert.equal((await image(thumbnail_url.replace(/\?token=.*$/, ''))).status, 404);
  });

  it('is refused to others and when it is not a picture', async () => {
    const owner = await registerUser(t);
    const stranger = await registerUser(t);
    const id = await readyVideo(owner);
    const denied = await putThumbnail(id, stranger.access_token, png);
    assert.ok([403, 404].includes(denied.status), String(denied.status));
    assert.equal((await putThumbnail(id, undefined, png)).status, 401);
    const gone = await api(t, 'DELETE', `/api/v1/videos/${id}/thumbnail`, { token: stranger.access_token });
    assert.ok([403, 404].includes(gone.status), String(gone.status));

    assert.equal((await putThumbnail(id, owner.access_token, '{}', 'application/json')).status, 415);
    const notImage = await putThumbnail(id, owner.access_token, Buffer.from('not a picture at all'));
    assert.equal(notImage.status, 422);
    assertProblem(
      { status: notImage.status, headers: notImage.headers, body: await notImage.json() },
      422,
      'IMAGE_INVALID',
    );
    assert.deepEqual(await customKeys(id), []);
    assert.match((await getVideo(id)).thumbnail_url, /poster\.jpg$/);
  });

  it('is drawn from the chosen frame by a job, and goes with the video', async () => {
    const owner = await registerUser(t);
    const id = await readyVideo(owner);
    const poster = (await getVideo(id)).thumbnail_url;
    const edit = await api(t, 'PATCH', `/api/v1/videos/${id}`, {
      token: owner.access_token,
      body: { thumbnail_time_s: 2 },
    });
    assert.equal(edit.status, 200, JSON.stringify(edit.body));
    const drawn = await waitFor('the frame to be drawn', async () => {
      const url = (await getVideo(id)).thumbnail_url;
      return url !== poster ? url : undefined;
    });
    assert.match(drawn, /\/thumbnails\/custom-[a-z0-9]+\.webp$/);
    assert.deepEqual(await image(drawn), {
      status: 200,
      type: 'image/webp',
      codec: 'webp',
      size: '1280x720',
    });

    // Another frame replaces it.
    await api(t, 'PATCH', `/api/v1/videos/${id}`, {
      token: owner.access_token,
      body: { thumbnail_time_s: 0.5 },
    });
    const redrawn = await waitFor('the new frame', async () => {
      const url = (await getVideo(id)).thumbnail_url;
      return url !== drawn ? url : undefined;
    });
    assert.equal((await image(redrawn)).status, 200);
    assert.equal((await customKeys(id)).length, 1);

    // Deleting the video removes its thumbnail too.
    const down = await api(t, 'PATCH', `/api/v1/videos/${id}/publish`, {
      token: owner.access_token,
      body: { published: false },
    });
    assert.equal(down.status, 200, JSON.stringify(down.body));
    assert.equal((await api(t, 'DELETE', `/api/v1/videos/${id}`, { token: owner.access_token })).status, 204);
    await waitFor('the thumbnail to be removed', async () => (await customKeys(id)).length === 0);
  });
});
