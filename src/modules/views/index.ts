// Views: counted once per viewer per video per day, buffered and written in batches; the creator
// dashboard's numbers. Only this module writes the view tables.
import { defineModule } from '../../platform/modules/define-module.ts';

export const viewsModule = defineModule({
  name: 'views',
  setup() {
    return {};
  },
});
