/**
 * `npm run emulator`: the emulator alone on EMULATOR_PORT (default 4010) and HOST (default
 * 127.0.0.1). Prints where it listens and the client id — never the secret.
 */
import { createProveEmulator } from './index.js';

function readPort(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 4010;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`EMULATOR_PORT must be an integer 0-65535, got "${raw}"`);
    process.exit(1);
  }
  return port;
}

const port = readPort(process.env.EMULATOR_PORT);
const host = process.env.HOST || '127.0.0.1';
const clientId = process.env.EMULATOR_CLIENT_ID ?? 'emulator-client';

const emulator = createProveEmulator({ clientId });
let server: Awaited<ReturnType<typeof emulator.listen>>;
try {
  server = await emulator.listen({ port, host });
} catch (err) {
  console.error(`Prove emulator could not listen on ${host}:${port}: ${(err as Error).message}`);
  process.exit(1);
}
console.log(`Prove emulator listening at ${server.url} (every sandbox user)`);
console.log(`  US region: ${server.url}/us   EU region: ${server.url}/eu`);
console.log(`OAuth client id: ${clientId} (client secrets not shown)`);
for (const region of ['US', 'EU']) {
  const regional = process.env[`EMULATOR_${region}_CLIENT_ID`];
  if (regional) console.log(`${region} OAuth client id: ${regional}`);
}

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  console.log(`Prove emulator stopping (${signal})`);
  void emulator.close().then(() => process.exit(0));
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
