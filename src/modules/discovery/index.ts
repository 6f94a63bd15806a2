// Discovery: tags, viewers' tag preferences, search and recommendations, and the cache in front of
// them. Only this module writes the tags and tag-preference tables.
import { defineModule } from '../../platform/modules/define-module.ts';

export const discoveryModule = defineModule({
  name: 'discovery',
  setup() {
    return {};
  },
});
