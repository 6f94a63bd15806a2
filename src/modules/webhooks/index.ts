// Outbound webhooks: integrators' endpoints, signed deliveries of catalog events from the outbox,
// retries and the delivery log. Only this module writes the webhook tables.
import { defineModule } from '../../platform/modules/define-module.ts';

export const webhooksModule = defineModule({
  name: 'webhooks',
  setup() {
    return {};
  },
});
