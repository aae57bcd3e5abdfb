import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { createGateway } from './server.js';

let config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
const logger = createLogger(config.logLevel);
const gateway = await createGateway(config, { logger });

console.log(`unify-gateway listening at ${gateway.url}`);
console.log(`GraphQL endpoint (HTTP and graphql-ws): ${gateway.graphqlUrl}`);
if (!config.production) console.log(`GraphiQL: ${gateway.graphqlUrl}`);
if (config.statusPage) console.log(`Status page: ${gateway.url}/`);
if (gateway.emulatorUrl) console.log(`Prove emulator (embedded, no credentials configured): ${gateway.emulatorUrl}`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000).unref();
    void gateway.close().then(() => {
      clearTimeout(force);
      process.exit(0);
    });
  });
}
