// Administration: account moderation now; more tools join here. Changes go through the owners' services.
import { defineModule } from '../../platform/modules/define-module.ts';
import { adminRoutes } from './routes.ts';

export const adminModule = defineModule({
  name: 'admin',
  setup(ctx) {
    const accounts = ctx.use('accounts');
    return { routes: (http) => adminRoutes(http, accounts) };
  },
});
