// Channels: one per user, made with the account; its page, images, premium fee, and the memberships
// that access tiers read. Only this module writes the channels and channel_memberships tables.
import path from 'node:path';
import { defineModule, defineSubscriber } from '../../platform/modules/define-module.ts';
import { userStatusChanged } from '../accounts/index.ts';
import { PlaybackTokens } from '../videos/index.ts';
import { channelsRoutes } from './routes.ts';
import { ChannelsService } from './service.ts';

export * from './events.ts';
export { imageUrl as channelImageUrl } from './images.ts';
export type { ChannelRow, ChannelWithOwner } from './repo.ts';
export { ChannelsService, type MembershipTier } from './service.ts';

declare module '../../platform/modules/define-module.ts' {
  interface ModuleServices {
    channels: ChannelsService;
  }
}

export const channelsModule = defineModule({
  name: 'channels',
  setup(ctx) {
    const accounts = ctx.use('accounts');
    const service = new ChannelsService({
      db: ctx.db,
      store: ctx.store,
      videos: ctx.use('videos').deletion,
      logger: ctx.logger,
      scratchDir: path.join(ctx.config.media.workDir, 'channels'),
      hub: ctx.hub,
      limiter: ctx.limiter,
    });
    // Every account has a channel from the moment it exists (migration 0010 made those of older ones).
    accounts.onUserCreated(async (tx, user) => {
      await service.createFor(tx, user);
    });
    accounts.extendSelf(async (userId) => ({ channel_id: await service.channelIdOf(userId) }));
    const signer = PlaybackTokens.fromSecret(ctx.secret, ctx.config.auth.playbackTokenTtlSeconds);
    return {
      service,
      routes: (http) =>
        channelsRoutes(http, { channels: service, store: ctx.store, signer, delivery: ctx.config.delivery }),
      subscribers: [
        // A hidden account's channel stays (404 to all but admins, back on restore); a deleted one's goes.
        defineSubscriber({
          event: userStatusChanged,
          name: 'channels.owner_deleted',
          handler: async ({ payload }, { tx }) => {
            if (payload.status === 'deleted') await service.ownerDeleted(tx, payload.user_id);
          },
        }),
      ],
    };
  },
});
