// Packaging: measures what the encode produced and writes the HLS master playlist and DASH manifest.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { RenditionInfo } from '../videos/index.ts';
import { dashManifest } from './dash-manifest.ts';
import type { LadderPlan } from './ladder.ts';
import { masterPlaylist } from './master-playlist.ts';
import { type MeasuredRendition, measureRendition, readInitSegment } from './segments.ts';

export interface Packaged {
  renditions: RenditionInfo[];
}

/** Writes `<hlsDir>/master.m3u8` and `<dashDir>/manifest.mpd` over the segments in hlsDir. */
export async function packageLadder(plan: LadderPlan, hlsDir: string, dashDir: string): Promise<Packaged> {
  const measured = await Promise.all(
    plan.renditions.map(async (r) => {
      const dir = path.join(hlsDir, r.name);
      const m = await measureRendition(dir);
      const init = await readInitSegment(path.join(dir, m.initUri));
      return { r, m, init };
    }),
  );
  let audio: { m: MeasuredRendition; codecs: string; timescale: number } | null = null;
  if (plan.audio) {
    const dir = path.join(hlsDir, 'audio');
    const m = await measureRendition(dir);
    const init = await readInitSegment(path.join(dir, m.initUri));
    audio = { m, codecs: init.codecs, timescale: init.timescale };
  }

  const master = masterPlaylist({
    variants: measured.map(({ r, m, init }) => ({
      uri: `${r.name}/index.m3u8`,
      width: r.width,
      height: r.height,
      fps: r.fps,
      codecs: init.codecs,
      peakBps: m.peakBps,
      averageBps: m.averageBps,
    })),
    audio:
      audio && plan.audio
        ? {
            uri: 'audio/index.m3u8',
            codecs: audio.codecs,
            channels: plan.audio.channels,
            peakBps: audio.m.peakBps,
            averageBps: audio.m.averageBps,
          }
        : null,
  });
  const mpd = dashManifest({
    video: measured.map(({ r, m, init }) => ({
      id: r.name,
      baseUri: `../hls/${r.name}/`,
      codecs: init.codecs,
      bandwidth: m.peakBps,
      timescale: init.timescale,
      initUri: m.initUri,
      segments: m.segments,
      width: r.width,
      height: r.height,
      fps: r.fps,
    })),
    audio:
      audio && plan.audio
        ? {
            id: 'audio',
            baseUri: '../hls/audio/',
            codecs: audio.codecs,
            bandwidth: audio.m.peakBps,
            timescale: audio.timescale,
            initUri: audio.m.initUri,
            segments: audio.m.segments,
            channels: plan.audio.channels,
            sampleRate: plan.audio.sampleRate,
          }
        : null,
  });
  await fs.mkdir(dashDir, { recursive: true });
  await fs.writeFile(path.join(hlsDir, 'master.m3u8'), master);
  await fs.writeFile(path.join(dashDir, 'manifest.mpd'), mpd);

  const audioPeak = audio?.m.peakBps ?? 0;
  const audioAvg = audio?.m.averageBps ?? 0;
  return {
    renditions: measured.map(({ r, m, init }) => ({
      name: r.name,
      width: r.width,
      height: r.height,
      fps: r.fps,
      bandwidth: Math.round(m.peakBps + audioPeak),
      average_bandwidth: Math.round(m.averageBps + audioAvg),
      codecs: audio ? `${init.codecs},${audio.codecs}` : init.codecs,
    })),
  };
}
