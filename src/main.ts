import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { createGateway } from './app/gateway.js';
import { startupProblem } from './app/startup-errors.js';
import { helpText } from './help.js';
import { prepareGraphiQLAssets } from './ui/graphiql-assets.js';
import { developmentBanner, developmentDefaults } from './app/development.js';

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(helpText());
  process.exit(0);
}
if (args.length) {
  console.error(`unknown argument "${args[0]}": the gateway is configured by environment variables (see --help)`);
  process.exit(1);
}

let loaded;
try {
  loaded = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
// In development only: a key for this run when none is configured, loose send limits with the emulator.
const development = developmentDefaults(loaded, process.env);
const config = development.config;
const logger = createLogger(config.logLevel, { format: config.logFormat, production: config.production });
let gateway;
try {
  gateway = await createGateway(config, { logger, checkCredentialsAtStart: true });
} catch (error) {
  // A port in use or a host that is not ours: one line naming the variable, as for configuration errors.
  const problem = startupProblem(error, config);
  if (!problem) throw error;
  console.error(`cannot start: ${problem}`);
  process.exit(1);
}
// One write, so whoever reads the banner (a person, a test, a supervisor) gets it whole.
console.log(
  [
    `unify-gateway listening at ${gateway.url}`,
    `GraphQL endpoint (HTTP and graphql-ws): ${gateway.graphqlUrl}`,
    ...(config.production ? [] : [`GraphiQL: ${gateway.graphqlUrl}`]),
    ...(config.statusPage ? [`Status page: ${gateway.url}/`] : []),
    ...(gateway.emulatorUrl ? [`Prove emulator (embedded, no credentials configured): ${gateway.emulatorUrl}`] : []),
    ...developmentBanner(development),
  ].join('\n'),
);

// GraphiQL's assets are loaded and compressed now, off the request path, so the first page opens at once.
if (!config.production) void prepareGraphiQLAssets().catch((error: Error) => logger.warn({ err: { message: error.message } }, 'GraphiQL assets not prepared'));

// Graceful shutdown: /ready turns 503 "draining" and new work is refused, what is in flight
// finishes within SHUTDOWN_TIMEOUT, WebSockets close with 1001, logs are flushed, exit 0. Exit 1
// when the timeout had to cut something, or when closing itself hangs. A second SIGINT (Ctrl-C
// twice) stops at once.
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) {
      if (signal === 'SIGINT') process.exit(1);
      return;
    }
    stopping = true;
    logger.info({ signal, timeoutMs: config.shutdownTimeoutMs }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown did not finish in time; exiting');
      logger.flush();
      process.exit(1);
    }, config.shutdownTimeoutMs + 5_000).unref();
    void gateway
      .shutdown(config.shutdownTimeoutMs)
      .then(
        (report) => (report.drained ? 0 : 1),
        (error: Error) => (logger.error({ err: { message: error.message } }, 'shutdown failed'), 1),
      )
      .then((code) => {
        clearTimeout(force);
        logger.flush(() => process.exit(code));
      });
  });
}
