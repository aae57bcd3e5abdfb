/**
 * `npm start -- --help` (or `node dist/src/main.js --help`): what can be set, in one screen.
 * The README's Configuration table is the long form; a test keeps the two naming the same variables.
 */

const VARIABLES: [name: string, meaning: string][] = [
  ['PORT', 'listen port (default 4000; 0 picks a free one)'],
  ['HOST', 'listen address (default 127.0.0.1; 0.0.0.0 for every interface)'],
  ['NODE_ENV', 'development (default), test or production (no GraphiQL, emulator or status page; credentials required)'],
  ['PROVE_ENV', 'sandbox or production (every region), or one host: uat-us, prod-us, uat-eu, prod-eu; required with credentials unless a base URL is set'],
  ['PROVE_BASE_URL', 'an explicit Prove base URL instead of PROVE_ENV (the default region)'],
  ['PROVE_CLIENT_ID, PROVE_CLIENT_SECRET', "the default region's Prove OAuth credentials; without any credentials the embedded emulator is used"],
  ['PROVE_US_CLIENT_ID, PROVE_US_CLIENT_SECRET', 'the US region (North-American numbers): its Prove OAuth credentials'],
  ['PROVE_EU_CLIENT_ID, PROVE_EU_CLIENT_SECRET', 'the EU region (every other number): its Prove OAuth credentials'],
  ['PROVE_US_BASE_URL, PROVE_EU_BASE_URL', "a region's base URL instead of Prove's host from PROVE_ENV"],
  ['PROVE_DEFAULT_REGION', 'us or eu: phone-less starts without a region, and the region PROVE_CLIENT_ID serves (default us)'],
  ['REDIS_URL', 'redis://…: flows, pub/sub and limits shared by every instance (default: in memory); with REDIS_CLUSTER=on, seed nodes, comma-separated'],
  ['REDIS_CLUSTER', 'on or off (default): REDIS_URL names a Redis Cluster or Valkey cluster (sharded pub/sub, Redis 7+)'],
  ['GATEWAY_API_KEYS', 'comma-separated API keys of trusted backends, 16+ characters each (development makes one when unset)'],
  ['START_LIMIT_PER_NUMBER', 'public starts to one number from one client address, count/window (default 3/10m; 20/1m with the embedded emulator in development)'],
  ['START_LIMIT_PER_NUMBER_ALL', 'public starts to one number from all addresses together (default 10/1h; 100/1m with the embedded emulator in development)'],
  ['START_LIMIT_PER_NUMBER_TRUSTED', 'starts to one number per API key (default 10/10m; 100/1m with the embedded emulator in development)'],
  ['START_LIMIT_PER_ADDRESS', 'starts per client address, count/window (default 20/1m; 100/1m with the embedded emulator in development)'],
  ['PROVE_RATE_LIMIT', 'requests per second to Prove, shared by all instances (default 25)'],
  ['ALLOWED_COUNTRIES', 'comma-separated ISO country codes accepted for phone numbers (default: all)'],
  ['CORS_ORIGINS', 'comma-separated browser origins allowed (HTTP CORS and the WebSocket Origin check)'],
  ['FINAL_TARGET_ORIGINS', "origins an Instant Link's finalTargetUrl may lead to (default: any)"],
  ['FLOW_TTL', 'flow lifetime, at most 15m (default 15m)'],
  ['LOG_LEVEL', 'fatal, error, warn, info (default), debug, trace or silent'],
  ['LOG_FORMAT', 'json or pretty (default: pretty in development on a terminal, json otherwise)'],
  ['SHUTDOWN_TIMEOUT', 'how long requests in flight may finish on SIGTERM/SIGINT (default 25s)'],
  ['PROVE_TIMEOUT', 'how long one call to Prove may take (default 5s)'],
  ['TRUSTED_PROXIES', 'addresses or CIDR ranges of your own proxies; only their X-Forwarded-For (or Forwarded) is believed (default: none)'],
  ['TRUST_PROXY_HEADER', 'x-forwarded-for (default) or forwarded (RFC 7239)'],
  ['HTTP_KEEP_ALIVE_TIMEOUT', 'idle keep-alive connections close after this (default 65s)'],
  ['HTTP_HEADERS_TIMEOUT, HTTP_REQUEST_TIMEOUT', 'headers, and a whole request, must arrive within these (default 10s, 30s)'],
  ['LIMIT_SUBSCRIPTIONS_PER_SOCKET', 'subscriptions on one graphql-ws socket (default 200)'],
  ['LIMIT_SUBSCRIPTIONS_PER_ADDRESS, LIMIT_SUBSCRIPTIONS_TOTAL', 'subscriptions (graphql-ws and SSE) per client address, and per process (default 1000, 20000)'],
  ['LIMIT_CONNECTIONS_PER_ADDRESS, LIMIT_CONNECTIONS_TOTAL', 'graphql-ws sockets and SSE streams per client address, and per process (default 1000, 20000)'],
  ['STATUS_PAGE', 'on or off: the status page at / (default on, off in production)'],
  ['TRUSTED_DOCUMENTS', 'comma-separated trusted documents manifests (persisted-documents.json): requests may send documentId or an APQ hash'],
  ['TRUSTED_DOCUMENTS_ONLY', 'on: run only the manifests\' documents, refuse any other text (default off; needs TRUSTED_DOCUMENTS)'],
  ['WEBHOOK_URL', 'comma-separated endpoints that receive a signed event per flow transition'],
  ['WEBHOOK_SECRET', 'whsec_… secret(s) signing every event; required with WEBHOOK_URL'],
  ['WEBHOOK_TIMEOUT', 'one delivery attempt (default 10s)'],
  ['WEBHOOK_RETRY_DELAY, WEBHOOK_RETRY_MAX_DELAY, WEBHOOK_RETRY_FOR', 'retry backoff (default 5s, 1h, 24h)'],
  ['WEBHOOK_ALLOW_HTTP', 'on lets production send webhooks over plain http (default off)'],
  ['WEBHOOK_CONCURRENCY', 'delivery attempts in flight per instance (default 16)'],
  ['OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OpenTelemetry collector (tracing is off without one)'],
  ['OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG, OTEL_BSP_SCHEDULE_DELAY', 'the standard OpenTelemetry settings'],
  ['EMULATOR_PORT, EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET', '`npm run emulator` only: its port (4010) and OAuth client'],
];

export function helpText(): string {
  const width = Math.max(...VARIABLES.map(([name]) => (name.length > 40 ? 0 : name.length)));
  const lines = VARIABLES.map(([name, meaning]) =>
    name.length > width ? `  ${name}\n  ${' '.repeat(width)}  ${meaning}` : `  ${name.padEnd(width)}  ${meaning}`,
  );
  return [
    'unify-gateway: a GraphQL gateway in front of Prove Unified Authentication.',
    '',
    'Usage: npm start            (development: the embedded Prove emulator when no credentials are set)',
    '       node dist/src/main.js (after npm run build; production)',
    '',
    'Configuration comes from environment variables, all checked at start:',
    ...lines,
    '',
    'The README has the details: every command, endpoint, variable and error code.',
  ].join('\n');
}
