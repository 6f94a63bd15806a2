// social: see docs/architecture.md (Community).
import { defineModule } from '../../platform/modules/define-module.ts';

export * from './events.ts';

export const socialModule = defineModule({
  name: 'social',
  setup() {
    return {};
  },
});
