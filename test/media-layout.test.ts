// The storage key and media URL layout: keys, URLs and the relative URIs inside playlists and manifests
// must all name the same files.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import {
  DASH_MANIFEST,
  dashTrackBase,
  EPOCH_PARAM,
  epochOfParam,
  HLS_MASTER,
  hlsTrackPath,
  imagePath,
  isImagePath,
  MEDIA_ROUTE,
  mediaKey,
  mediaUrlBase,
  POSTER_FILE,
  resolveMediaPath,
  STORYBOARD_VTT_FILE,
  sourceKey,
  TRACK_PLAYLIST,
  thumbnailFile,
  trackPlaylistUri,
  VERSION_PARAM,
  versionFolder,
  versionPrefix,
} from '../src/modules/videos/index.ts';

const ID = '01890a5d-ac96-774b-bcce-b302099a8057';

describe('storage keys', () => {
  it('keeps sources apart from the media versions', () => {
    assert.equal(sourceKey(ID), `sources/${ID}/original`);
    assert.equal(versionPrefix(ID, 3), `videos/${ID}/3`);
    assert.equal(mediaKey(versionPrefix(ID, 3), HLS_MASTER), `videos/${ID}/3/hls/master.m3u8`);
    assert.equal(
      mediaKey(versionPrefix(ID, 3), hlsTrackPath('720p', 'seg_00001.m4s')),
      `videos/${ID}/3/hls/720p/seg_00001.m4s`,
    );
    assert.equal(mediaKey(versionPrefix(ID, 3), imagePath(POSTER_FILE)), `videos/${ID}/3/images/poster.jpg`);
    assert.ok(!sourceKey(ID).startsWith(versionFolder(ID, 1)));
  });

  it('deletes one version without touching another whose number starts the same', () => {
    assert.equal(versionFolder(ID, 1), `videos/${ID}/1/`);
    assert.ok(!mediaKey(versionPrefix(ID, 10), HLS_MASTER).startsWith(versionFolder(ID, 1)));
    assert.ok(mediaKey(versionPrefix(ID, 1), HLS_MASTER).startsWith(versionFolder(ID, 1)));
  });

  it('names images under images/', () => {
    assert.ok(isImagePath(imagePath(thumbnailFile(320))));
    assert.ok(isImagePath(imagePath(STORYBOARD_VTT_FILE)));
    assert.ok(!isImagePath(HLS_MASTER));
    assert.ok(!isImagePath(hlsTrackPath('images', 'seg_00001.m4s')));
  });
});

describe('relative URIs', () => {
  const base = `https://vireo.test${mediaUrlBase(ID, 2, 5)}/`;

  it('from the master playlist reach each track playlist', () => {
    const url = new URL(trackPlaylistUri('720p'), new URL(HLS_MASTER, base));
    assert.equal(url.href, new URL(hlsTrackPath('720p', TRACK_PLAYLIST), base).href);
  });

  it('from the DASH manifest reach the HLS segments it shares', () => {
    const url = new URL(`${dashTrackBase('audio')}seg_00001.m4s`, new URL(DASH_MANIFEST, base));
    assert.equal(url.href, new URL(hlsTrackPath('audio', 'seg_00001.m4s'), base).href);
  });
});

describe('media URLs', () => {
  it('are matched by the media route, back to the same video, version, epoch and file', async () => {
    const app = Fastify();
    app.get(MEDIA_ROUTE, async (req) => req.params);
    try {
      const res = await app.inject(`${mediaUrlBase(ID, 7, 12)}/${hlsTrackPath('480p', 'init.mp4')}`);
      assert.equal(res.statusCode, 200);
      const params = res.json() as Record<string, string>;
      assert.equal(params.id, ID);
      assert.match(params.version!, VERSION_PARAM);
      assert.equal(Number(params.version), 7);
      assert.match(params.epoch!, EPOCH_PARAM);
      assert.equal(epochOfParam(params.epoch!), 12);
      assert.deepEqual(resolveMediaPath(ID, 7, params['*']!), {
        ok: true,
        key: mediaKey(versionPrefix(ID, 7), hlsTrackPath('480p', 'init.mp4')),
      });
    } finally {
      await app.close();
    }
  });

  it('refuse versions and epochs that are not positive integers', () => {
    for (const bad of ['0', '01', '-1', '1.5', 'e1', '']) assert.doesNotMatch(bad, VERSION_PARAM);
    for (const bad of ['e0', 'e01', '1', 'e', 'e-1', 'E1']) assert.doesNotMatch(bad, EPOCH_PARAM);
  });
});

describe('resolveMediaPath', () => {
  it('answers the key of a media file', () => {
    assert.deepEqual(resolveMediaPath(ID, 1, DASH_MANIFEST), {
      ok: true,
      key: `videos/${ID}/1/dash/manifest.mpd`,
    });
  });

  it('refuses what is not a media file name', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /empty/],
      ['x'.repeat(513), /longer than 512/],
      ['../../sources/x/original', /"\.\."/],
      ['hls/..', /"\.\."/],
      ['hls/./master.m3u8', /may hold only/],
      ['hls//master.m3u8', /may hold only/],
      ['/etc/passwd', /may hold only/],
      ['hls/a b.m4s', /may hold only/],
      ['hls\\master.m3u8', /may hold only/],
      ['hls/%2e%2e/x', /may hold only/],
    ];
    for (const [path, problem] of cases) {
      const r = resolveMediaPath(ID, 1, path);
      assert.equal(r.ok, false, path);
      assert.ok(!r.ok && r.reason === 'invalid' && problem.test(r.problem), `${path}: ${JSON.stringify(r)}`);
    }
  });

  it('answers no media file for dot-files, which are the store’s own', () => {
    for (const path of ['.upload-123', 'hls/720p/.seg_00001.m4s.tmp', '.hidden/poster.jpg']) {
      assert.deepEqual(resolveMediaPath(ID, 1, path), { ok: false, reason: 'not_media' }, path);
    }
  });
});
