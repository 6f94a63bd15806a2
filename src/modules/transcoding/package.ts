// Packaging: the HLS master playlist and DASH manifest over the segments measured so far. While the
// encode runs they are "live" (DASH dynamic, rates estimated from the encoder's caps); at the end they
// are rewritten from the measured segments. Pure: returns texts.
import { dashTrackBase, type RenditionInfo, trackPlaylistUri } from '../videos/index.ts';
import { dashManifest } from './dash-manifest.ts';
import type { LadderPlan } from './ladder.ts';
import { masterPlaylist } from './master-playlist.ts';
import type { InitSegmentInfo, MeasuredRendition } from './segments.ts';

export interface MeasuredTrack {
  m: MeasuredRendition;
  init: InitSegmentInfo;
}

export interface LadderTracks {
  /** In the order of plan.renditions. */
  video: MeasuredTrack[];
  audio: MeasuredTrack | null;
}

export interface Manifests {
  master: string;
  mpd: string;
  renditions: RenditionInfo[];
}

/** The encode is still running: `startedAt` anchors the dynamic DASH timeline. */
export interface LiveState {
  startedAt: Date;
  now: Date;
}

export function buildManifests(plan: LadderPlan, tracks: LadderTracks, live?: LiveState): Manifests {
  const { audio } = tracks;
  const audioPlan = plan.audio;
  // A peak measured over the first seconds is no bound for what is still to come: until the end, the
  // encoder's rate cap (VBV maxrate) is the honest announcement, unless more was seen already.
  const videoPeak = (i: number) =>
    live
      ? Math.max(tracks.video[i]!.m.peakBps, plan.renditions[i]!.maxrateKbps * 1000)
      : tracks.video[i]!.m.peakBps;
  const audioPeak =
    audio && audioPlan
      ? live
        ? Math.max(audio.m.peakBps, audioPlan.bitrateKbps * 1000)
        : audio.m.peakBps
      : 0;
  const videos = plan.renditions.map((r, i) => ({ r, ...tracks.video[i]!, peak: videoPeak(i) }));

  const master = masterPlaylist({
    variants: videos.map(({ r, m, init, peak }) => ({
      uri: trackPlaylistUri(r.name),
      width: r.width,
      height: r.height,
      fps: r.fps,
      codecs: init.codecs,
      peakBps: peak,
      averageBps: m.averageBps,
    })),
    audio:
      audio && audioPlan
        ? {
            uri: trackPlaylistUri('audio'),
            codecs: audio.init.codecs,
            channels: audioPlan.channels,
            peakBps: audioPeak,
            averageBps: audio.m.averageBps,
          }
        : null,
  });
  const mpd = dashManifest({
    video: videos.map(({ r, m, init, peak }) => ({
      id: r.name,
      baseUri: dashTrackBase(r.name),
      codecs: init.codecs,
      bandwidth: peak,
      timescale: init.timescale,
      initUri: m.initUri,
      segments: m.segments,
      width: r.width,
      height: r.height,
      fps: r.fps,
    })),
    audio:
      audio && audioPlan
        ? {
            id: 'audio',
            baseUri: dashTrackBase('audio'),
            codecs: audio.init.codecs,
            bandwidth: audioPeak,
            timescale: audio.init.timescale,
            initUri: audio.m.initUri,
            segments: audio.m.segments,
            channels: audioPlan.channels,
            sampleRate: audioPlan.sampleRate,
          }
        : null,
    dynamic: live
      ? {
          availabilityStartTime: live.startedAt,
          publishTime: live.now,
          minimumUpdatePeriodS: plan.segmentSeconds,
        }
      : undefined,
  });

  const audioAvg = audio?.m.averageBps ?? 0;
  const audioCodecs = audio ? `,${audio.init.codecs}` : '';
  return {
    master,
    mpd,
    renditions: videos.map(({ r, m, init, peak }) => ({
      name: r.name,
      width: r.width,
      height: r.height,
      fps: r.fps,
      bandwidth: Math.round(peak + audioPeak),
      average_bandwidth: Math.round(m.averageBps + audioAvg),
      codecs: `${init.codecs}${audioCodecs}`,
    })),
  };
}
