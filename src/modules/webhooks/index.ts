// Outbound webhooks: integrators' endpoints, signed deliveries of catalog events from the outbox,
// retries and the delivery log. Only this module writes the webhook tables.
import { defineJob } from '../../platform/jobs/definition.ts';
import { defineModule } from '../../platform/modules/define-module.ts';
import { deliverWebhook } from './jobs.ts';
import { webhooksRoutes } from './routes.ts';
import { WebhooksService } from './service.ts';

export { WEBHOOK_EVENT_TYPES } from './schema.ts';
export { WebhooksService } from './service.ts';
export { verifySignature } from './signature.ts';

declare module '../../platform/modules/define-module.ts' {
  interface ModuleServices {
    webhooks: WebhooksService;
  }
}

export const webhooksModule = defineModule({
  name: 'webhooks',
  setup(ctx) {
    const service = new WebhooksService(ctx.db, ctx.config.webhooks, ctx.logger);
    return {
      service,
      routes: (http) => webhooksRoutes(http, service),
      jobs: [
        defineJob({
          ...deliverWebhook,
          handler: ({ delivery_id, manual }) => service.attempt(delivery_id, manual),
        }),
      ],
      subscribers: [
        {
          // One subscriber for every event (each costs the relay a connection); fanOut keeps the types
          // in WEBHOOK_EVENT_TYPES. Events before the first start are not delivered.
          event: '*',
          name: 'webhooks.deliveries',
          handler: (event, { tx }) => service.fanOut(tx, event),
          options: { from: 'latest' },
        },
      ],
    };
  },
});
