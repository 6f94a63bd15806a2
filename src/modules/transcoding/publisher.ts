// Moves what ffmpeg has finished into the store while the encode runs, and keeps the playlists and the
// DASH manifest players read in step with it: a video plays once the first segment of every rendition
// is stored, however long it is, and its segments reach the store (folder or S3) as they are made.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ObjectStore } from '../../platform/storage/object-store.ts';
import type { LadderPlan } from './ladder.ts';
import { mediaPlaylist, targetDuration } from './media-playlist.ts';
import { buildManifests, type Manifests } from './package.ts';
import {
  type InitSegmentInfo,
  type MeasuredSegment,
  parseMediaPlaylist,
  readInitSegment,
  summarize,
} from './segments.ts';

export interface PublisherOptions {
  store: ObjectStore;
  /** Store prefix of this processing run, e.g. `videos/<id>/<version>`. */
  prefix: string;
  /** ffmpeg's output: `<hlsDir>/<track>/index.m3u8` and its segments. */
  hlsDir: string;
  plan: LadderPlan;
  /** Called once, when every rendition has a stored segment and the live manifests are stored. */
  onPlayable: () => Promise<void>;
  now?: () => Date;
}

interface Track {
  name: string;
  init: InitSegmentInfo | null;
  initUri: string | null;
  segments: MeasuredSegment[];
}

export class SegmentPublisher {
  private readonly tracks: Track[];
  private readonly startedAt: Date;
  private readonly now: () => Date;
  private playable = false;

  constructor(private readonly opts: PublisherOptions) {
    const names = [...opts.plan.renditions.map((r) => r.name), ...(opts.plan.audio ? ['audio'] : [])];
    this.tracks = names.map((name) => ({ name, init: null, initUri: null, segments: [] }));
    this.now = opts.now ?? (() => new Date());
    this.startedAt = this.now();
  }

  /** One pass while ffmpeg runs: stores new segments and the playlists that list them. */
  async sync(): Promise<void> {
    let changed = false;
    for (const track of this.tracks) {
      if (await this.collect(track, false)) {
        changed = true;
        await this.putPlaylist(track, false);
      }
    }
    if (!changed || !this.tracks.every((t) => t.segments.length > 0)) return;
    const live = buildManifests(this.opts.plan, this.measured(false), {
      startedAt: this.startedAt,
      now: this.now(),
    });
    await this.opts.store.put(`${this.opts.prefix}/dash/manifest.mpd`, live.mpd);
    if (!this.playable) {
      await this.opts.store.put(`${this.opts.prefix}/hls/master.m3u8`, live.master);
      this.playable = true;
      await this.opts.onPlayable();
    }
  }

  /** After ffmpeg exited cleanly: stores the rest, then the final (VOD, static) playlists and manifest. */
  async finish(): Promise<Manifests> {
    for (const track of this.tracks) {
      await this.collect(track, true);
      if (track.segments.length === 0) throw new Error(`ffmpeg wrote no segment for ${track.name}`);
    }
    for (const track of this.tracks) await this.putPlaylist(track, true);
    const final = buildManifests(this.opts.plan, this.measured(true));
    await this.opts.store.put(`${this.opts.prefix}/dash/manifest.mpd`, final.mpd);
    await this.opts.store.put(`${this.opts.prefix}/hls/master.m3u8`, final.master);
    return final;
  }

  /** Stores the track's init segment and any finished segment not stored yet; answers if any was. */
  private async collect(track: Track, final: boolean): Promise<boolean> {
    const dir = path.join(this.opts.hlsDir, track.name);
    const text = await fs.readFile(path.join(dir, 'index.m3u8'), 'utf8').catch((err) => {
      if (!final && (err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    });
    if (text === null) return false;
    const playlist = parseMediaPlaylist(text);
    if (!playlist.initUri) throw new Error(`${dir}/index.m3u8 has no EXT-X-MAP: not an fMP4 rendition`);
    const key = (name: string) => `${this.opts.prefix}/hls/${track.name}/${name}`;
    if (!track.init) {
      const initFile = path.join(dir, playlist.initUri);
      track.init = await readInitSegment(initFile);
      // Copied, not moved: the muxer owns the file until it exits.
      await this.opts.store.putFile(key(playlist.initUri), initFile);
      track.initUri = playlist.initUri;
    }
    const before = track.segments.length;
    for (const entry of playlist.entries.slice(before)) {
      const file = path.join(dir, entry.uri);
      const bytes = await fs.stat(file).then(
        (s) => s.size,
        () => null,
      );
      if (bytes === null) {
        // A playlist caught mid-write can name a segment a moment before it is renamed into place.
        if (!final) break;
        throw new Error(`${dir}/${entry.uri} is listed in the playlist but missing`);
      }
      await this.opts.store.putFile(key(entry.uri), file, { move: true });
      track.segments.push({ ...entry, bytes });
    }
    return track.segments.length > before;
  }

  private async putPlaylist(track: Track, complete: boolean): Promise<void> {
    const text = mediaPlaylist({
      // Fixed while the list grows, as RFC 8216 requires; exact once it is complete.
      targetDurationS: complete
        ? targetDuration(this.opts.plan.segmentSeconds, track.segments)
        : Math.ceil(this.opts.plan.segmentSeconds),
      initUri: track.initUri!,
      segments: track.segments,
      complete,
    });
    await this.opts.store.put(`${this.opts.prefix}/hls/${track.name}/index.m3u8`, text);
  }

  private measured(complete: boolean) {
    const track = (t: Track) => ({
      m: summarize(
        t.initUri!,
        t.segments,
        targetDuration(this.opts.plan.segmentSeconds, t.segments),
        complete,
      ),
      init: t.init!,
    });
    const video = this.tracks.filter((t) => t.name !== 'audio').map(track);
    const audio = this.tracks.find((t) => t.name === 'audio');
    return { video, audio: audio ? track(audio) : null };
  }
}
