// Administration: account moderation now; more tools join here. Changes go through the owners' services.
export { adminRoutes } from './routes.ts';
