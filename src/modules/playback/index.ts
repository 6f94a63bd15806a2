// Playback: serves a video's playlists, manifests, segments and images from the object store.
import type { HttpServer } from '../../platform/http/server.ts';
import type { ObjectStore } from '../../platform/storage/object-store.ts';
import type { VideosService } from '../videos/index.ts';

export interface PlaybackDeps {
  store: ObjectStore;
  videos: VideosService;
}

export function playbackRoutes(_app: HttpServer, _deps: PlaybackDeps): void {}
