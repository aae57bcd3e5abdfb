import { createProveEmulator } from '../../src/emulator/index.js';
import { args, serve } from './child.js';

/** The Prove emulator alone on its own port; `rateLimitPerSecond` as given (25 like Prove; 0 off). */
const emulator = createProveEmulator({
  rateLimitPerSecond: typeof args.rateLimitPerSecond === 'number' ? args.rateLimitPerSecond : 25,
});
const listening = await emulator.listen({ port: 0 });
serve({ url: listening.url }, {}, async () => {
  await listening.close();
  await emulator.close();
});
