import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mediaPlaylist, targetDuration } from '../../src/modules/transcoding/media-playlist.ts';

const segments = [
  { uri: 'seg_00000.m4s', durationS: 2 },
  { uri: 'seg_00001.m4s', durationS: 1.5 },
];

describe('media playlist', () => {
  it('is an EVENT list that starts at the beginning while it grows', () => {
    const text = mediaPlaylist({ targetDurationS: 2, initUri: 'init.mp4', segments, complete: false });
    assert.match(text, /#EXT-X-PLAYLIST-TYPE:EVENT/);
    assert.match(text, /#EXT-X-START:TIME-OFFSET=0/);
    assert.doesNotMatch(text, /ENDLIST/);
    assert.match(
      text,
      /#EXT-X-MAP:URI="init.mp4"\n#EXTINF:2.000000,\nseg_00000.m4s\n#EXTINF:1.500000,\nseg_00001.m4s\n$/,
    );
  });

  it('is a VOD list with ENDLIST once complete', () => {
    const text = mediaPlaylist({ targetDurationS: 2, initUri: 'init.mp4', segments, complete: true });
    assert.match(text, /#EXT-X-PLAYLIST-TYPE:VOD/);
    assert.doesNotMatch(text, /EXT-X-START/);
    assert.ok(text.endsWith('seg_00001.m4s\n#EXT-X-ENDLIST\n'));
  });

  it('never announces a target duration below a rounded segment', () => {
    assert.equal(targetDuration(2, segments), 2);
    assert.equal(targetDuration(2, [{ durationS: 2.6 }]), 3);
    assert.equal(targetDuration(1.5, []), 2);
  });
});
