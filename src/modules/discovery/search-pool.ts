// Search runs on connections of its own: planned for its indexes (random_page_cost 1.1: the GIN indexes
// are small and hot, and at the default the planner parses every row instead of reading them), and as
// named prepared statements, so that PostgreSQL plans each shape of query once per connection instead of
// on every request (planning cost as much as running a two-word search on 100k videos).
import { PreparedPool } from '../../platform/db/prepared-pool.ts';
import type { Logger } from '../../platform/observability/logger.ts';

export class SearchPool extends PreparedPool {
  constructor(databaseUrl: string, max: number, logger: Logger) {
    super(databaseUrl, { prefix: 'search', max, options: '-c random_page_cost=1.1' }, logger);
  }
}
