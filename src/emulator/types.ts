/**
 * The emulator's public shapes, apart from its wiring so that emulator.ts and index.ts do not
 * import each other.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface EmulatorOptions {
  clientId?: string;            // default process.env.EMULATOR_CLIENT_ID ?? 'emulator-client'
  clientSecret?: string;        // default process.env.EMULATOR_CLIENT_SECRET ?? 'emulator-secret'
  flowTtlMs?: number;           // 15 min: correlationId/flow lifetime from the unify response
  otpWindowMs?: number;         // 2 min from send
  linkWindowMs?: number;        // 3 min from send
  tokenTtlSeconds?: number;     // 3600
  rateLimitPerSecond?: number;  // 25 (per OAuth client, over /v3/* calls; 0 disables) -> 429 with Retry-After: 1
  now?: () => number;           // clock, default Date.now
  /**
   * The client SDK's phone-number change, which Prove enables per credential: /sim/authenticate
   * with another sandbox number verifies that number (default true). false: a device on another
   * line fails possession.
   */
  phoneNumberChange?: boolean;
  /**
   * The OAuth client of each regional door (`/us`, `/eu`); each defaults to EMULATOR_<US|EU>_CLIENT_ID /
   * _SECRET, then to clientId / clientSecret. A token from one door is refused at the other.
   */
  regions?: Partial<Record<'us' | 'eu', { clientId?: string; clientSecret?: string }>>;
}

export interface ProveEmulator {
  /**
   * Node http handler. Paths are relative to the emulator root: the gateway mounts it under a prefix and rewrites req.url before calling.
   * Prove's endpoints answer at the root (every sandbox user) and per region under /us and /eu.
   */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Serve alone on its own port (0 = ephemeral). */
  listen(options?: { port?: number; host?: string }): Promise<{ url: string; close(): Promise<void> }>;
  /** Clears timers / pending hung responses so a process can exit. */
  close(): Promise<void>;
}
