// notifications: see docs/architecture.md (Community).
import { defineModule } from '../../platform/modules/define-module.ts';

export const notificationsModule = defineModule({
  name: 'notifications',
  setup() {
    return {};
  },
});
