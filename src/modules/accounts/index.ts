// Accounts: users, sign-in, sessions and tokens. Other modules call AccountsService; only this module
// writes the users, sessions and refresh_tokens tables.

export { toSelfDto, toUserDto } from './dto.ts';
export { accountsRoutes } from './routes.ts';
export { accountStatus, role, selfDto, userDto } from './schema.ts';
export { AccountsService } from './service.ts';
export { AccessTokens } from './tokens.ts';
