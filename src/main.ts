// CLI: `vireo <role>`; parses arguments, starts the app, and stops it on SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { prepareDatabase, type Role, startApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { AccessTokens, AccountsService } from './modules/accounts/index.ts';
import { EmbeddedPostgresError } from './platform/db/embedded-postgres.ts';
import { MigrationError } from './platform/db/migrator.ts';
import { RateLimiter } from './platform/http/rate-limit.ts';
import { JobRegistryError } from './platform/jobs/definition.ts';
import { createLogger } from './platform/observability/logger.ts';

const HELP = `Usage: vireo [command] [options]

Commands:
  all                 API, web app and job worker in one process (default)
  api                 HTTP API only; run several behind a load balancer
  worker              job worker only; run as many as you like
  migrate             apply database migrations, then exit
  admin create        create an administrator account
      --username NAME   (default: admin)
      --email EMAIL     (required)
      --password PASS   (read from standard input when omitted)

Options:
  -h, --help          show this help

Settings come from environment variables; see docs/configuration.md.
With no DATABASE_URL, Vireo runs its own PostgreSQL under DATA_DIR/postgres.`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      username: { type: 'string' },
      email: { type: 'string' },
      password: { type: 'string' },
    },
  });
  const command = positionals[0] ?? 'all';
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const config = loadConfig();
  const logger = createLogger(config.log.level);

  if (command === 'migrate') {
    const { database, embedded } = await prepareDatabase(config, logger);
    await database.close();
    await embedded?.stop();
    return 0;
  }
  if (command === 'admin') {
    if (positionals[1] !== 'create' || !values.email) {
      console.error('usage: vireo admin create --email EMAIL [--username NAME] [--password PASS]');
      return 2;
    }
    const password = values.password ?? (await readStdinLine());
    const { database, embedded } = await prepareDatabase(config, logger);
    try {
      const accounts = new AccountsService({
        db: database.db,
        tokens: new AccessTokens('unused-for-account-creation-only', 60),
        limiter: new RateLimiter(database.db),
        logger,
        refreshTtlSeconds: config.auth.refreshTokenTtlSeconds,
        limits: config.rateLimit,
      });
      const user = await accounts.createUser({
        username: values.username ?? 'admin',
        email: values.email,
        password,
        role: 'admin',
      });
      console.log(`administrator ${user.username} created (${user.id})`);
      return 0;
    } finally {
      await database.close();
      await embedded?.stop();
    }
  }
  if (!['all', 'api', 'worker'].includes(command)) {
    console.error(`unknown command "${command}"\n\n${HELP}`);
    return 2;
  }

  const app = await startApp(config, { role: command as Role, logger });
  await new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      app.stop().then(resolve, (err) => {
        logger.error({ err }, 'shutdown failed');
        resolve();
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  return 0;
}

async function readStdinLine(): Promise<string> {
  let data = '';
  for await (const chunk of process.stdin) {
    data += chunk;
    if (data.includes('\n')) break;
  }
  return data.split('\n')[0]!.trim();
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // One line for the errors a user can fix; the stack only for what is our bug.
    const known = [ConfigError, EmbeddedPostgresError, MigrationError, JobRegistryError];
    if (known.some((k) => err instanceof k)) console.error((err as Error).message);
    else console.error(err);
    process.exitCode = 1;
  },
);
