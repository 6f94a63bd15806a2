// Playback: serves a video's playlists, manifests, segments and images from the object store.
export { type PlaybackDeps, playbackRoutes } from './routes.ts';
