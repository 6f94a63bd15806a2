// Videos: the catalog's videos, their life cycle and who may watch them. Only this module writes the
// videos table.

import path from 'node:path';
import { defineModule, defineSubscriber } from '../../platform/modules/define-module.ts';
import { userStatusChanged } from '../accounts/index.ts';
import { drawThumbnailJob, publishDueJob, removeMediaJob } from './jobs.ts';
import { PlaybackTokens } from './playback-tokens.ts';
import { videosRoutes } from './routes.ts';
import { VideosService } from './service.ts';
import { VideoThumbnails } from './thumbnails.ts';

export * from './access.ts';
export { type PlaybackSigner, signedImageUrl, type ViewerState } from './dto.ts';
export * from './events.ts';
export * from './lifecycle.ts';
export { activeOwner, listable, listableRow, seeableBy } from './listing.ts';
export * from './media-layout.ts';
export {
  type MediaKind,
  type PlaybackGrant,
  type PlaybackScope,
  PlaybackTokens,
} from './playback-tokens.ts';
export type { ProcessingStage } from './processing-runs.ts';
export type {
  AccessTier,
  Category,
  Publication,
  RenditionInfo,
  VideoRow,
  VideoStatus,
  Visibility,
} from './repo.ts';
export { CATEGORIES, TAG_SLUG_MAX, tagSlug, videoStatus, viewerStateDto } from './schema.ts';
export { VideosService } from './service.ts';
export { type ProgressEvent, videoTopic } from './topics.ts';

declare module '../../platform/modules/define-module.ts' {
  interface ModuleServices {
    videos: VideosService;
  }
}

export const videosModule = defineModule({
  name: 'videos',
  setup(ctx) {
    const tokens = PlaybackTokens.fromSecret(ctx.secret, ctx.config.auth.playbackTokenTtlSeconds);
    const service = new VideosService(ctx.db, tokens, ctx.metrics);
    const thumbnails = new VideoThumbnails(
      ctx.db,
      ctx.store,
      path.join(ctx.config.media.workDir, 'thumbnails'),
    );
    return {
      service,
      routes: (http) => videosRoutes(http, { videos: service, thumbnails, hub: ctx.hub, signer: tokens }),
      jobs: [
        removeMediaJob(ctx.store),
        publishDueJob(() => service.publishing.publishDue()),
        drawThumbnailJob(thumbnails),
      ],
      subscribers: [
        // A hidden account's videos move to new media URLs and their open streams end; a deleted
        // account's videos are deleted.
        defineSubscriber({
          event: userStatusChanged,
          name: 'videos.owner_status',
          handler: ({ payload }, { tx }) => service.ownerStatusChanged(tx, payload.user_id, payload.status),
        }),
      ],
    };
  },
});
