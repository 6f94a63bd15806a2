// CLI: `vireo <role>`; parses arguments, starts the app, and stops it on SIGINT/SIGTERM. The app and its
// modules are loaded only for the commands that need them, so --help and a bad setting answer at once.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { Role } from './app.ts';
import { ConfigError, configSchema, loadConfig } from './config.ts';
import { EmbeddedPostgresError } from './platform/db/embedded-postgres.ts';
import { MigrationError } from './platform/db/migrator.ts';
import { JobRegistryError } from './platform/jobs/definition.ts';
import { ModuleError } from './platform/modules/define-module.ts';
import { createLogger } from './platform/observability/logger.ts';

const HELP = `Usage: vireo [command] [options]

Commands:
  all                 API and job worker in one process (default)
  api                 HTTP API only; run several behind a load balancer
  worker              job worker only; run as many as you like
  migrate             apply database migrations, then exit
  seed                fill the catalog with demo accounts, channels, tags and videos (processed
                      by the real pipeline); running it again adds nothing. With the embedded
                      database, run it while Vireo is stopped.
  admin create        create an administrator account
      --username NAME   (default: admin)
      --email EMAIL     (required)
      --password PASS   (read from standard input when omitted)

Options:
  -h, --help          show this help

Settings come from environment variables; see docs/configuration.md.
With no DATABASE_URL, Vireo runs its own PostgreSQL under DATA_DIR/postgres.`;

function parseCommandLine(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        username: { type: 'string' },
        email: { type: 'string' },
        password: { type: 'string' },
      },
    });
  } catch (err) {
    // A mistyped option is the user's to fix: one line, not a stack.
    console.error(`${(err as Error).message}\nRun "vireo --help" for the commands and options.`);
    return undefined;
  }
}

async function main(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(argv);
  if (!parsed) return 2;
  const { values, positionals } = parsed;
  const command = positionals[0] ?? 'all';
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (!['all', 'api', 'worker', 'migrate', 'admin', 'seed'].includes(command)) {
    console.error(`unknown command "${command}"\n\n${HELP}`);
    return 2;
  }
  const config = loadConfig();
  const logger = createLogger(config.log.level, 'vireo', { format: config.log.format });

  const { prepareDatabase, startApp } = await import('./app.ts');
  if (command === 'migrate') {
    const { database, embedded } = await prepareDatabase(config, logger);
    await database.close();
    await embedded?.stop();
    return 0;
  }
  if (command === 'seed') {
    // The platform runs here for the time of the seed, on a port of its own.
    // Its own requests are not news: warnings only, unless LOG_LEVEL says otherwise.
    const quiet = process.env.LOG_LEVEL
      ? logger
      : createLogger('warn', 'vireo', { format: config.log.format });
    const app = await startApp(
      { ...config, http: { ...config.http, port: 0 } },
      { role: 'all', logger: quiet },
    );
    try {
      const { seedCatalog } = await import('./cli/seed.ts');
      const { SEED_PASSWORDS } = await import('./cli/seed-data.ts');
      const summary = await seedCatalog(app, { progress: (line) => console.log(line) });
      console.log(
        `seeded: ${summary.users} accounts, ${summary.tags} tags, ${summary.videos.made} videos made, ` +
          `${summary.videos.found} already there\n` +
          `sign in as admin / ${process.env.SEED_ADMIN_PASSWORD ? '$SEED_ADMIN_PASSWORD' : SEED_PASSWORDS.admin}, ` +
          `or creator_alice … creator_emma / ${SEED_PASSWORDS.creator}`,
      );
      return 0;
    } finally {
      await app.stop();
    }
  }
  if (command === 'admin') {
    if (positionals[1] !== 'create' || !values.email) {
      console.error('usage: vireo admin create --email EMAIL [--username NAME] [--password PASS]');
      return 2;
    }
    // The same rules as ADMIN_USERNAME, ADMIN_EMAIL and ADMIN_PASSWORD: an administrator made here
    // must not get a password that sign-up would refuse.
    const input = z
      .object({
        username: configSchema.shape.ADMIN_USERNAME,
        email: configSchema.shape.ADMIN_EMAIL.unwrap(),
        password: configSchema.shape.ADMIN_PASSWORD.unwrap(),
      })
      .safeParse({
        username: values.username,
        email: values.email,
        password: values.password ?? (await readStdinLine()),
      });
    if (!input.success) {
      const issue = input.error.issues[0]!;
      console.error(`invalid --${String(issue.path[0])}: ${issue.message}`);
      return 1;
    }
    const { database, embedded } = await prepareDatabase(config, logger);
    const { AccessTokens, AccountsService } = await import('./modules/accounts/index.ts');
    const { RateLimiter } = await import('./platform/http/rate-limit.ts');
    const { DomainError } = await import('./platform/errors/domain-error.ts');
    try {
      const accounts = new AccountsService({
        db: database.db,
        tokens: new AccessTokens('unused-for-account-creation-only', 60),
        limiter: new RateLimiter(database.db),
        logger,
        refreshTtlSeconds: config.auth.refreshTokenTtlSeconds,
        limits: config.rateLimit,
      });
      const user = await accounts.createUser({ ...input.data, role: 'admin' });
      console.log(`administrator ${user.username} created (${user.id})`);
      return 0;
    } catch (err) {
      // USERNAME_TAKEN, EMAIL_TAKEN: one line, as for any mistake the user can fix.
      if (!(err instanceof DomainError)) throw err;
      console.error(`administrator not created: ${err.message} (${err.code})`);
      return 1;
    } finally {
      await database.close();
      await embedded?.stop();
    }
  }

  // Signals are handled from before the boot: one that arrives during initdb or migrations must not
  // kill the process under its embedded PostgreSQL, but stop everything once the boot is done.
  let signalled: NodeJS.Signals | undefined;
  let wake = () => {};
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      // A second signal stops waiting; the embedded server is still told to stop as the process exits.
      logger.warn({ signal }, 'exiting without waiting for the shutdown');
      process.exit(1);
    }
    signalled = signal;
    wake();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const app = await startApp(config, { role: command as Role, logger });
  if (!signalled) await new Promise<void>((resolve) => (wake = resolve));
  logger.info({ signal: signalled }, 'shutting down');
  try {
    await app.stop();
  } catch (err) {
    logger.error({ err }, 'shutdown failed');
    return 1;
  }
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
    // Nothing runs after main: a job handler that ignored its abort signal must not keep us alive.
    process.exit(code);
  },
  (err: unknown) => {
    // One line for the errors a user can fix; the stack only for what is our bug.
    const known = [ConfigError, EmbeddedPostgresError, MigrationError, JobRegistryError, ModuleError];
    if (known.some((k) => err instanceof k)) console.error((err as Error).message);
    else console.error(err);
    process.exit(1);
  },
);
