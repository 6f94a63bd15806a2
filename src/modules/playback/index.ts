// Playback: serves a video's playlists, manifests, segments and images from the object store.
import { defineModule } from '../../platform/modules/define-module.ts';
import { playbackRoutes } from './routes.ts';

export const playbackModule = defineModule({
  name: 'playback',
  setup(ctx) {
    const videos = ctx.use('videos');
    return {
      routes: (http) =>
        playbackRoutes(http, {
          store: ctx.store,
          videos,
          tokens: videos.tokens,
          delivery: ctx.config.delivery,
        }),
    };
  },
});
