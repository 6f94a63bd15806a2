// collections: see docs/architecture.md (Community).
import { defineModule } from '../../platform/modules/define-module.ts';

export * from './events.ts';

export const collectionsModule = defineModule({
  name: 'collections',
  setup() {
    return {};
  },
});
