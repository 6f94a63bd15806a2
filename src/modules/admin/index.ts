// Administration: accounts, video moderation and the audit log. Changes go through their owners'
// services (accounts, videos), each in one transaction with its audit entry.
import { defineModule } from '../../platform/modules/define-module.ts';
import { adminAuditRoutes } from './audit-routes.ts';
import { AdminService } from './service.ts';
import { adminUsersRoutes } from './users-routes.ts';
import { adminVideosRoutes } from './videos-routes.ts';

export const adminModule = defineModule({
  name: 'admin',
  setup(ctx) {
    const accounts = ctx.use('accounts');
    const audit = ctx.use('audit');
    const service = new AdminService({ db: ctx.db, accounts, videos: ctx.use('videos'), audit });
    return {
      routes: (http) => {
        adminUsersRoutes(http, accounts, service);
        adminVideosRoutes(http, service);
        adminAuditRoutes(http, audit);
      },
    };
  },
});
