// trending: see docs/architecture.md (Community).
import { defineModule } from '../../platform/modules/define-module.ts';

export const trendingModule = defineModule({
  name: 'trending',
  setup() {
    return {};
  },
});
