// Moves what ffmpeg has finished into the store while the encode runs, and keeps the playlists and the
// DASH manifest players read in step with it: a video plays once the first segment of every rendition
// is stored, however long it is, and its segments reach the store (folder or S3) as they are made.
//
// A run can also continue a version that an earlier run made playable before it died: viewers may be
// following its growing playlists. The encode starts over, but the segments already stored stay (the
// same encoder and settings cut segments at the same times, after the same init segment), and the
// playlists only grow from where they were, up to ENDLIST. Should the new init segments differ (another
// ffmpeg build, other settings), nothing of the new run has been stored yet: it moves to a new version.
import fs from 'node:fs/promises';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import type { ObjectStore } from '../../platform/storage/object-store.ts';
import { DASH_MANIFEST, HLS_MASTER, hlsTrackPath, mediaKey, TRACK_PLAYLIST } from '../videos/index.ts';
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
  /**
   * Set when the run continues a version already playable (see above): answers the prefix of a new
   * version, for when the stored segments cannot be continued.
   */
  resume?: { newVersion: () => Promise<string> };
  now?: () => Date;
}

interface Track {
  name: string;
  init: InitSegmentInfo | null;
  initUri: string | null;
  segments: MeasuredSegment[];
  /** What an earlier run of this version stored for this track: its init segment and listed segments. */
  stored: { initUri: string; init: Buffer; entries: Array<{ uri: string; durationS: number }> } | null;
}

/** Segments cut at the same times last the same to the microsecond or so; playlists keep 6 decimals. */
const SAME_DURATION_S = 0.001;

export class SegmentPublisher {
  private readonly tracks: Track[];
  private readonly startedAt: Date;
  private readonly now: () => Date;
  private prefix: string;
  private playable = false;
  /** While a resumed run has not yet compared its init segments with the stored ones. */
  private unchecked: boolean;

  constructor(private readonly opts: PublisherOptions) {
    const names = [...opts.plan.renditions.map((r) => r.name), ...(opts.plan.audio ? ['audio'] : [])];
    this.tracks = names.map((name) => ({ name, init: null, initUri: null, segments: [], stored: null }));
    this.now = opts.now ?? (() => new Date());
    this.startedAt = this.now();
    this.prefix = opts.prefix;
    this.unchecked = !!opts.resume;
  }

  /** One pass while ffmpeg runs: stores new segments and the playlists that list them. */
  async sync(): Promise<void> {
    if (this.unchecked && !(await this.checkResume(false))) return;
    // What players may already have read is never taken back: a resumed run writes a list only once it
    // is longer than the stored one, and the manifest only once no track is behind.
    let grew = false;
    for (const track of this.tracks) {
      if ((await this.collect(track, false)) && track.segments.length > storedCount(track)) {
        grew = true;
        await this.putPlaylist(track, false);
      }
    }
    const caughtUp = this.tracks.every((t) => t.segments.length > 0 && t.segments.length >= storedCount(t));
    if (!grew || !caughtUp) return;
    const live = buildManifests(this.opts.plan, this.measured(false), {
      startedAt: this.startedAt,
      now: this.now(),
    });
    await this.opts.store.put(this.key(DASH_MANIFEST), live.mpd);
    if (!this.playable) {
      await this.opts.store.put(this.key(HLS_MASTER), live.master);
      this.playable = true;
      await this.opts.onPlayable();
    }
  }

  /** After ffmpeg exited cleanly: stores the rest, then the final (VOD, static) playlists and manifest. */
  async finish(): Promise<Manifests> {
    if (this.unchecked) await this.checkResume(true);
    for (const track of this.tracks) {
      await this.collect(track, true);
      if (track.segments.length === 0) throw new Error(`ffmpeg wrote no segment for ${track.name}`);
      if (track.segments.length < storedCount(track)) {
        throw new Error(`${track.name} has fewer segments than the stored version it continues`);
      }
    }
    for (const track of this.tracks) await this.putPlaylist(track, true);
    const final = buildManifests(this.opts.plan, this.measured(true));
    await this.opts.store.put(this.key(DASH_MANIFEST), final.mpd);
    await this.opts.store.put(this.key(HLS_MASTER), final.master);
    return final;
  }

  /**
   * Compares, once ffmpeg has written every track's init segment, the resumed run's output with the
   * stored version: the same, its stored segments are kept; not, the run moves to a new version.
   * Answers whether it could compare yet.
   */
  private async checkResume(final: boolean): Promise<boolean> {
    const fresh: Buffer[] = [];
    for (const track of this.tracks) {
      const dir = path.join(this.opts.hlsDir, track.name);
      const text = await fs.readFile(path.join(dir, 'index.m3u8'), 'utf8').catch((err) => {
        if (!final && (err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      });
      if (text === null) return false;
      const initUri = parseMediaPlaylist(text).initUri;
      if (!initUri) throw new Error(`${dir}/index.m3u8 has no EXT-X-MAP: not an fMP4 rendition`);
      fresh.push(await fs.readFile(path.join(dir, initUri)));
    }
    for (const track of this.tracks) track.stored = await this.readStored(track.name);
    const same = this.tracks.every((t, i) => t.stored?.init.equals(fresh[i]!) === true);
    if (!same) {
      for (const track of this.tracks) track.stored = null;
      this.prefix = await this.opts.resume!.newVersion();
    }
    this.unchecked = false;
    return true;
  }

  private async readStored(name: string): Promise<Track['stored']> {
    const key = (file: string) => this.key(hlsTrackPath(name, file));
    const text = await readObject(this.opts.store, key(TRACK_PLAYLIST));
    const playlist = text && parseMediaPlaylist(text.toString('utf8'));
    if (!playlist?.initUri) return null;
    const init = await readObject(this.opts.store, key(playlist.initUri));
    return init && { initUri: playlist.initUri, init, entries: playlist.entries };
  }

  /** Seconds of the source whose segments are stored in every track: how far the encode has come. */
  get encodedSeconds(): number {
    return Math.min(...this.tracks.map((t) => t.segments.reduce((sum, s) => sum + s.durationS, 0)));
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
    const key = (name: string) => this.key(hlsTrackPath(track.name, name));
    if (!track.init) {
      const initFile = path.join(dir, playlist.initUri);
      track.init = await readInitSegment(initFile);
      // Copied, not moved: the muxer owns the file until it exits. A stored one is the same.
      if (!track.stored) await this.opts.store.putFile(key(playlist.initUri), initFile);
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
      const stored = track.stored?.entries[track.segments.length];
      if (stored) {
        // Players may hold the stored one already: it stays, and this copy must cover the same time.
        if (stored.uri !== entry.uri || Math.abs(stored.durationS - entry.durationS) > SAME_DURATION_S) {
          throw new Error(`${dir}/${entry.uri} does not match the stored segment ${stored.uri}`);
        }
        await fs.rm(file, { force: true });
      } else {
        await this.opts.store.putFile(key(entry.uri), file, { move: true });
      }
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
    await this.opts.store.put(this.key(hlsTrackPath(track.name, TRACK_PLAYLIST)), text);
  }

  /** The key of a file of this run's version folder. */
  private key(path: string): string {
    return mediaKey(this.prefix, path);
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

const storedCount = (track: Track) => track.stored?.entries.length ?? 0;

async function readObject(store: ObjectStore, key: string): Promise<Buffer | null> {
  const found = await store.get(key);
  return found && buffer(found.body);
}
