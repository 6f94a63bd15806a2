// Videos: the catalog's videos and their life cycle. Only this module writes the videos table.
export * from './access.ts';
export type { PlaybackSigner } from './dto.ts';
export * from './media-layout.ts';
export type { RenditionInfo, VideoRow, VideoStatus, Visibility } from './repo.ts';
export { videosRoutes } from './routes.ts';
export {
  type ProcessingStage,
  type ProgressEvent,
  VideosService,
  videoTopic,
} from './service.ts';
