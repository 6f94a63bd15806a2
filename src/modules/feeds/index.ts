// feeds: see docs/architecture.md (Community).
import { defineModule } from '../../platform/modules/define-module.ts';

export const feedsModule = defineModule({
  name: 'feeds',
  setup() {
    return {};
  },
});
