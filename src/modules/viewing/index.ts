// viewing: see docs/architecture.md (Community).
import { defineModule } from '../../platform/modules/define-module.ts';

export const viewingModule = defineModule({
  name: 'viewing',
  setup() {
    return {};
  },
});
