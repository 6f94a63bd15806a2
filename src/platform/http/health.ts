import { z } from 'zod';
import type { HttpServer } from './server.ts';

export interface Readiness {
  database: () => Promise<boolean>;
  migrations: () => Promise<boolean>;
}

const readySchema = z.object({
  status: z.enum(['ready', 'not_ready']),
  checks: z.object({ database: z.boolean(), migrations: z.boolean() }),
});

export function healthRoutes(app: HttpServer, readiness: Readiness): void {
  app.get('/healthz', {
    config: { auth: 'public' },
    schema: {
      tags: ['operations'],
      summary: 'The process is alive',
      response: { 200: z.object({ status: z.literal('ok') }) },
    },
    handler: async () => ({ status: 'ok' as const }),
  });

  app.get('/readyz', {
    config: { auth: 'public' },
    schema: {
      tags: ['operations'],
      summary: 'The database is reachable and migrated',
      response: { 200: readySchema, 503: readySchema },
    },
    handler: async (_req, reply) => {
      const database = await readiness.database().catch(() => false);
      const migrations = database ? await readiness.migrations().catch(() => false) : false;
      const ok = database && migrations;
      return reply
        .status(ok ? 200 : 503)
        .send({ status: ok ? 'ready' : 'not_ready', checks: { database, migrations } });
    },
  });
}
