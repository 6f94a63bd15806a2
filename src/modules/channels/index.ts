// Channels: one per user, made with the account; its page, images, premium fee, and the memberships
// that access tiers read. Only this module writes the channels and channel_memberships tables.
import { defineModule } from '../../platform/modules/define-module.ts';

export const channelsModule = defineModule({
  name: 'channels',
  setup() {
    return {};
  },
});
