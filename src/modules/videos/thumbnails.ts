// A video's own thumbnail: a picture its owner uploads, or a frame they choose, drawn from the source.
// Either is stored as a 1280x720 WebP under a new key per change (media-layout.ts), and the one it
// replaces is removed; without one, lists show the poster.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Db, Tx } from '../../platform/db/database.ts';
import { DomainError } from '../../platform/errors/domain-error.ts';
import { emit } from '../../platform/events/emit.ts';
import type { Principal } from '../../platform/http/auth-guard.ts';
import { runFfmpeg } from '../../platform/media/ffmpeg-runner.ts';
import { ImageError, type ImageTarget, renderImage } from '../../platform/media/image.ts';
import { SOURCE_URL, sourceInputOptions } from '../../platform/media/source-input.ts';
import type { ObjectStore } from '../../platform/storage/object-store.ts';
import { videoUpdated } from './events.ts';
import { customThumbnailKey } from './media-layout.ts';
import type { VideoRow } from './repo.ts';
import * as repo from './repo.ts';
import { managed, save } from './video-writes.ts';

export const THUMBNAIL: ImageTarget = { width: 1280, height: 720, output: 'webp' };

/** Time-ordered, so names sort by change; random, so two nodes never pick the same one. */
const newName = () => `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;

export class VideoThumbnails {
  constructor(
    private readonly db: Db,
    private readonly store: ObjectStore,
    private readonly scratchDir: string,
  ) {}

  /** The owner (or an admin) uploads a thumbnail; IMAGE_INVALID when it is not a picture we take. */
  async upload(id: string, principal: Principal, bytes: Buffer): Promise<void> {
    await this.db.transaction().execute((tx) => managed(tx, id, principal));
    let data: Buffer;
    try {
      ({ data } = await renderImage(bytes, THUMBNAIL, path.join(this.scratchDir, 'images')));
    } catch (err) {
      if (err instanceof ImageError) {
        throw new DomainError('IMAGE_INVALID', `The image ${err.message}`, {
          fields: [{ field: 'thumbnail', message: err.message }],
        });
      }
      throw err;
    }
    await this.replace(id, data, async (tx) => {
      const video = await managed(tx, id, principal);
      // An uploaded picture takes the place of a chosen frame.
      return { video, extra: { thumbnail_time_s: null } };
    });
  }

  /** Back to the poster: the custom thumbnail (and the chosen frame) go. */
  async remove(id: string, principal: Principal): Promise<void> {
    const previous = await this.db.transaction().execute(async (tx) => {
      const video = await managed(tx, id, principal);
      if (video.thumbnail_key === null && video.thumbnail_time_s === null) return null;
      await save(tx, video, { thumbnail_key: null, thumbnail_time_s: null });
      await this.announce(tx, video);
      return video.thumbnail_key;
    });
    if (previous) await this.store.delete(previous);
  }

  /**
   * Draws the chosen frame (the job): skipped when the video is gone or another frame (or an upload)
   * was chosen since the job was enqueued.
   */
  async drawFrame(id: string, timeS: number, signal?: AbortSignal): Promise<'done' | 'skipped'> {
    const chosen = (v: VideoRow | undefined): v is VideoRow =>
      !!v?.source_key &&
      v.thumbnail_time_s !== null &&
      Math.fround(v.thumbnail_time_s) === Math.fround(timeS);
    const video = await repo.findVideo(this.db, id);
    if (!chosen(video)) return 'skipped';
    await fs.mkdir(this.scratchDir, { recursive: true });
    const dir = await fs.mkdtemp(path.join(this.scratchDir, `frame-${id}-`));
    try {
      const source = path.join(dir, 'source');
      const output = path.join(dir, 'frame.webp');
      await this.store.download(video.source_key!, source);
      // A frame a little before the very end: decoding from the last instant may yield none.
      const duration = video.media_info?.durationS ?? timeS;
      const at = Math.max(0, Math.min(timeS, duration - 0.1));
      await runFfmpeg(frameArgs(at, output), { source, signal, timeoutMs: 120_000 });
      const data = await fs.readFile(output);
      if (data.length === 0) throw new Error(`No frame at ${at} s`);
      let stale = false;
      await this.replace(id, data, async (tx) => {
        const current = await repo.lockVideo(tx, id);
        if (!chosen(current)) {
          stale = true;
          return null;
        }
        return { video: current, extra: {} };
      });
      return stale ? 'skipped' : 'done';
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }

  /** Stores `data` under a new key, points the locked video at it, then removes the one it replaces. */
  private async replace(
    id: string,
    data: Buffer,
    lock: (tx: Tx) => Promise<{ video: VideoRow; extra: { thumbnail_time_s?: null } } | null>,
  ): Promise<void> {
    const key = customThumbnailKey(id, newName());
    await this.store.put(key, data, 'image/webp');
    let previous: string | null = null;
    let saved = false;
    try {
      await this.db.transaction().execute(async (tx) => {
        const locked = await lock(tx);
        if (!locked) return;
        previous = locked.video.thumbnail_key;
        await save(tx, locked.video, { thumbnail_key: key, ...locked.extra });
        await this.announce(tx, locked.video);
        saved = true;
      });
    } finally {
      if (!saved) await this.store.delete(key);
    }
    if (previous) await this.store.delete(previous);
  }

  private async announce(tx: Tx, video: VideoRow): Promise<void> {
    await emit(
      tx,
      videoUpdated.create({
        aggregateId: video.id,
        payload: { video_id: video.id, owner_id: video.owner_id, fields: ['thumbnail'] },
      }),
    );
  }
}

/** ffmpeg's arguments to draw the frame at `atS` of the source, covering 1280x720, as WebP. */
export function frameArgs(atS: number, outFile: string): string[] {
  const { width: w, height: h } = THUMBNAIL;
  return [
    '-nostdin',
    '-v',
    'error',
    '-ss',
    String(atS),
    ...sourceInputOptions(),
    '-i',
    SOURCE_URL,
    '-map',
    '0:v:0',
    '-frames:v',
    '1',
    '-vf',
    `scale=${w}:${h}:force_original_aspect_ratio=increase,crop=${w}:${h},setsar=1`,
    '-map_metadata',
    '-1',
    '-c:v',
    'libwebp',
    '-quality',
    '85',
    '-f',
    'webp',
    '-y',
    `file:${outFile}`,
  ];
}
