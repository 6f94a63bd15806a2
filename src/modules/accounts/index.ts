// Accounts: users, sign-in, sessions and tokens. Other modules call AccountsService; only this module
// writes the users, sessions and refresh_tokens tables.
import { defineModule } from '../../platform/modules/define-module.ts';
import { accountsRoutes } from './routes.ts';
import { AccountsService } from './service.ts';
import { AccessTokens } from './tokens.ts';

export { toSelfDto, toUserDto } from './dto.ts';
export { userStatusChanged } from './events.ts';
export type { UserRow } from './repo.ts';
export { accountStatus, displayName, email, password, role, selfDto, userDto, username } from './schema.ts';
export { AccountsService, type SelfExtras, type UserChange } from './service.ts';
export { AccessTokens } from './tokens.ts';

declare module '../../platform/modules/define-module.ts' {
  interface ModuleServices {
    accounts: AccountsService;
  }
}

export const accountsModule = defineModule({
  name: 'accounts',
  setup(ctx) {
    const { config } = ctx;
    const service = new AccountsService({
      db: ctx.db,
      tokens: new AccessTokens(ctx.secret, config.auth.accessTokenTtlSeconds),
      limiter: ctx.limiter,
      logger: ctx.logger,
      refreshTtlSeconds: config.auth.refreshTokenTtlSeconds,
      limits: config.rateLimit,
      hub: ctx.hub,
    });
    return {
      service,
      routes: (http) => accountsRoutes(http, service),
      // The first administrator, from ADMIN_EMAIL / ADMIN_PASSWORD, while there is none.
      start: async () => {
        if (config.admin) await service.ensureInitialAdmin(config.admin);
      },
    };
  },
});
