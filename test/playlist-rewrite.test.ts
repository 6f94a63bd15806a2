// The token rewrite of playlists, manifests and storyboards, on hand-written text and on what the
// transcoder's own writers produce.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  rewriteDashManifest,
  rewriteHlsPlaylist,
  rewriteImageVtt,
  rewriterFor,
  withToken,
} from '../src/modules/playback/playlist-rewrite.ts';
import { dashManifest } from '../src/modules/transcoding/dash-manifest.ts';
import { storyboardVtt } from '../src/modules/transcoding/images.ts';
import { masterPlaylist } from '../src/modules/transcoding/master-playlist.ts';

const T = 'AbC-_9';

describe('withToken', () => {
  it('adds the token to the query, before any fragment, replacing one already there', () => {
    assert.equal(withToken('seg_00001.m4s', T), `seg_00001.m4s?token=${T}`);
    assert.equal(withToken('720p/index.m3u8', T), `720p/index.m3u8?token=${T}`);
    assert.equal(withToken('/media/videos/x/1/a.m4s', T), `/media/videos/x/1/a.m4s?token=${T}`);
    assert.equal(withToken('a.m4s?v=2', T), `a.m4s?v=2&token=${T}`);
    assert.equal(withToken('a.m4s?token=old&v=2', T), `a.m4s?v=2&token=${T}`);
    assert.equal(withToken('a.m4s?', T), `a.m4s?token=${T}`);
    assert.equal(withToken('sprite.jpg#xywh=0,0,160,90', T), `sprite.jpg?token=${T}#xywh=0,0,160,90`);
    assert.equal(withToken('a.m4s?x=1&amp;token=old', T, '&amp;'), `a.m4s?x=1&amp;token=${T}`);
  });

  it('leaves URIs of other hosts and schemes alone', () => {
    for (const uri of [
      'https://cdn.example/a.m4s',
      '//cdn.example/a.m4s',
      'data:text/plain,x',
      'skd://key',
      '',
    ]) {
      assert.equal(withToken(uri, T), uri);
    }
  });
});

describe('rewriteHlsPlaylist', () => {
  it('tokens every URI of a master playlist: variants, renditions and I-frame playlists', () => {
    const master = [
      '#EXTM3U',
      '#EXT-X-VERSION:7',
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="default",DEFAULT=YES,URI="audio/index.m3u8"',
      '#EXT-X-STREAM-INF:BANDWIDTH=500000,CODECS="avc1.64001f,mp4a.40.2",AUDIO="aud"',
      '240p/index.m3u8',
      '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,URI="240p/iframes.m3u8"',
      '#EXT-X-SESSION-DATA:DATA-ID="com.example",URI="https://other.example/data.json"',
      '# a comment naming URI="not-a-uri.m3u8"',
      '#EXT-X-FOO:X-URI="custom.m3u8"',
      '',
    ].join('\n');
    assert.equal(
      rewriteHlsPlaylist(master, T),
      [
        '#EXTM3U',
        '#EXT-X-VERSION:7',
        `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="default",DEFAULT=YES,URI="audio/index.m3u8?token=${T}"`,
        '#EXT-X-STREAM-INF:BANDWIDTH=500000,CODECS="avc1.64001f,mp4a.40.2",AUDIO="aud"',
        `240p/index.m3u8?token=${T}`,
        `#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,URI="240p/iframes.m3u8?token=${T}"`,
        '#EXT-X-SESSION-DATA:DATA-ID="com.example",URI="https://other.example/data.json"',
        '# a comment naming URI="not-a-uri.m3u8"',
        '#EXT-X-FOO:X-URI="custom.m3u8"',
        '',
      ].join('\n'),
    );
  });

  it('tokens a media playlist still growing: no ENDLIST, CRLF endings, a last line without one', () => {
    const growing =
      '#EXTM3U\r\n#EXT-X-PLAYLIST-TYPE:EVENT\r\n#EXT-X-TARGETDURATION:2\r\n' +
      '#EXT-X-MAP:URI="init.mp4"\r\n#EXTINF:2.000,\r\nseg_00000.m4s\r\n\r\n#EXTINF:2.000,\r\nseg_00001.m4s';
    assert.equal(
      rewriteHlsPlaylist(growing, T),
      '#EXTM3U\r\n#EXT-X-PLAYLIST-TYPE:EVENT\r\n#EXT-X-TARGETDURATION:2\r\n' +
        `#EXT-X-MAP:URI="init.mp4?token=${T}"\r\n#EXTINF:2.000,\r\nseg_00000.m4s?token=${T}\r\n\r\n` +
        `#EXTINF:2.000,\r\nseg_00001.m4s?token=${T}`,
    );
    // Later reads of the same growing playlist rewrite the same lines the same way.
    const longer = `${growing}\r\n#EXTINF:1.5,\r\nseg_00002.m4s\r\n#EXT-X-ENDLIST\r\n`;
    assert.ok(rewriteHlsPlaylist(longer, T).startsWith(rewriteHlsPlaylist(growing, T)));
    assert.match(rewriteHlsPlaylist(longer, T), /seg_00002\.m4s\?token=AbC-_9\r\n#EXT-X-ENDLIST\r\n$/);
  });

  it('tokens low-latency parts, preload hints and keys', () => {
    const ll = [
      '#EXT-X-PART:DURATION=0.5,URI="seg_00003.0.m4s",INDEPENDENT=YES',
      '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg_00003.1.m4s"',
      '#EXT-X-KEY:METHOD=AES-128,URI="key.bin",IV=0x1',
      '#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://fairplay",KEYFORMAT="com.apple.streamingkeydelivery"',
    ].join('\n');
    assert.equal(
      rewriteHlsPlaylist(ll, T),
      [
        `#EXT-X-PART:DURATION=0.5,URI="seg_00003.0.m4s?token=${T}",INDEPENDENT=YES`,
        `#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg_00003.1.m4s?token=${T}"`,
        `#EXT-X-KEY:METHOD=AES-128,URI="key.bin?token=${T}",IV=0x1`,
        '#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://fairplay",KEYFORMAT="com.apple.streamingkeydelivery"',
      ].join('\n'),
    );
  });

  it('leaves no URI without the token in the master playlist the transcoder writes', () => {
    const text = masterPlaylist({
      variants: [
        {
          uri: '240p/index.m3u8',
          width: 426,
          height: 240,
          fps: 30,
          codecs: 'avc1.64000d',
          peakBps: 3e5,
          averageBps: 2e5,
        },
        {
          uri: '360p/index.m3u8',
          width: 640,
          height: 360,
          fps: 30,
          codecs: 'avc1.64001e',
          peakBps: 6e5,
          averageBps: 4e5,
        },
      ],
      audio: {
        uri: 'audio/index.m3u8',
        codecs: 'mp4a.40.2',
        channels: 2,
        peakBps: 1.3e5,
        averageBps: 1.28e5,
      },
    });
    const out = rewriteHlsPlaylist(text, T);
    const uris = [...out.matchAll(/URI="([^"]*)"/g)].map((m) => m[1]!);
    uris.push(...out.split('\n').filter((l) => l !== '' && !l.startsWith('#')));
    assert.deepEqual(
      uris.sort(),
      ['240p', '360p', 'audio'].map((r) => `${r}/index.m3u8?token=${T}`),
    );
  });
});

describe('rewriteDashManifest', () => {
  const track = {
    codecs: 'avc1.64000d',
    bandwidth: 3e5,
    timescale: 15360,
    initUri: 'init.mp4',
    segments: [0, 1, 2].map((i) => ({ uri: `seg_0000${i}.m4s`, durationS: 2 })),
  };
  const mpd = (dynamic: boolean) =>
    dashManifest({
      video: [{ ...track, id: '240p', baseUri: '../hls/240p/', width: 426, height: 240, fps: 30 }],
      audio: {
        ...track,
        id: 'audio',
        baseUri: '../hls/audio/',
        codecs: 'mp4a.40.2',
        channels: 2,
        sampleRate: 48000,
      },
      dynamic: dynamic
        ? { availabilityStartTime: new Date(0), publishTime: new Date(0), minimumUpdatePeriodS: 2 }
        : undefined,
    });

  it('tokens the initialization and media templates of the manifest the transcoder writes', () => {
    for (const dynamic of [false, true]) {
      const out = rewriteDashManifest(mpd(dynamic), T);
      const urls = [...out.matchAll(/\s(initialization|media)="([^"]*)"/g)].map((m) => m[2]);
      assert.deepEqual(urls, [
        `../hls/240p/init.mp4?token=${T}`,
        `../hls/240p/seg_$Number%05d$.m4s?token=${T}`,
        `../hls/audio/init.mp4?token=${T}`,
        `../hls/audio/seg_$Number%05d$.m4s?token=${T}`,
      ]);
      // Only those attributes changed.
      assert.equal(out.replaceAll(`?token=${T}`, ''), mpd(dynamic));
    }
  });

  it('tokens segment URLs and the update location, XML-escaped, and leaves BaseURL and byte ranges', () => {
    const text = [
      '<MPD><Location>manifest.mpd</Location><Period><BaseURL>https://cdn.example/v/</BaseURL>',
      `<SegmentList><Initialization sourceURL='init.mp4' range="0-99"/>`,
      '<SegmentURL media="a.m4s?x=1&amp;y=2" mediaRange="100-199" index="a.sidx"/>',
      '</SegmentList></Period></MPD>',
    ].join('\n');
    assert.equal(
      rewriteDashManifest(text, T),
      [
        `<MPD><Location>manifest.mpd?token=${T}</Location><Period><BaseURL>https://cdn.example/v/</BaseURL>`,
        `<SegmentList><Initialization sourceURL='init.mp4?token=${T}' range="0-99"/>`,
        `<SegmentURL media="a.m4s?x=1&amp;y=2&amp;token=${T}" mediaRange="100-199" index="a.sidx?token=${T}"/>`,
        '</SegmentList></Period></MPD>',
      ].join('\n'),
    );
  });
});

describe('rewriteImageVtt', () => {
  it('tokens the sprite of every cue of the storyboard the transcoder writes', () => {
    const text = storyboardVtt({
      file: 'storyboard.jpg',
      vtt: 'storyboard.vtt',
      tileWidth: 160,
      tileHeight: 90,
      columns: 2,
      rows: 2,
      intervalS: 1,
      count: 3,
      durationS: 2.5,
    });
    const out = rewriteImageVtt(text, T);
    const cues = out.split('\n').filter((l) => l.includes('storyboard'));
    assert.deepEqual(cues, [
      `storyboard.jpg?token=${T}#xywh=0,0,160,90`,
      `storyboard.jpg?token=${T}#xywh=160,0,160,90`,
      `storyboard.jpg?token=${T}#xywh=0,90,160,90`,
    ]);
    assert.equal(out.replaceAll(`?token=${T}`, ''), text);
  });

  it('never changes identifiers, notes or the text of a cue', () => {
    const subtitles =
      'WEBVTT\n\nNOTE\nsprite.jpg\n\nintro.png\n00:00.000 --> 00:01.000\nSee the photo.jpg here\n<b>photo.jpg</b>\n';
    assert.equal(rewriteImageVtt(subtitles, T), subtitles);
  });
});

describe('rewriterFor', () => {
  it('rewrites playlists, manifests and WebVTT, and nothing else', () => {
    assert.equal(rewriterFor('hls/master.m3u8'), rewriteHlsPlaylist);
    assert.equal(rewriterFor('hls/240p/INDEX.M3U8'), rewriteHlsPlaylist);
    assert.equal(rewriterFor('dash/manifest.mpd'), rewriteDashManifest);
    assert.equal(rewriterFor('images/storyboard.vtt'), rewriteImageVtt);
    for (const path of ['hls/240p/seg_00000.m4s', 'hls/240p/init.mp4', 'images/poster.jpg', 'info.json']) {
      assert.equal(rewriterFor(path), null, path);
    }
  });
});
