// Social: who follows whom (with exact counters), user stats, and channel subscriptions, which are the
// free tier-1 memberships the channels module keeps. Only this module writes follows and
// user_follow_counts.
import { defineModule, defineSubscriber } from '../../platform/modules/define-module.ts';
import { userStatusChanged } from '../accounts/index.ts';
import { socialRoutes } from './routes.ts';
import { SocialService } from './service.ts';

export * from './events.ts';
export { SocialService } from './service.ts';

declare module '../../platform/modules/define-module.ts' {
  interface ModuleServices {
    social: SocialService;
  }
}

export const socialModule = defineModule({
  name: 'social',
  setup(ctx) {
    const service = new SocialService(ctx.db, ctx.use('channels'));
    return {
      service,
      routes: (http) => socialRoutes(http, service),
      subscribers: [
        // A deleted account's follows go; a hidden one keeps them (lists leave it out meanwhile).
        defineSubscriber({
          event: userStatusChanged,
          name: 'social.account_deleted',
          handler: async ({ payload }, { tx }) => {
            if (payload.status === 'deleted') await service.accountDeleted(tx, payload.user_id);
          },
        }),
      ],
    };
  },
});
