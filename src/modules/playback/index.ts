// Playback: serves a video's playlists, manifests, segments and images from the object store.
export { type PlaybackDeps, playbackRoutes } from './routes.ts';
export { type MediaKind, type PlaybackGrant, PlaybackTokens } from './tokens.ts';
