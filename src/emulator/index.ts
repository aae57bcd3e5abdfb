/**
 * The Prove sandbox emulator: Prove's wire format for /token and /v3/unify*, plus /sim/* routes
 * that play the user's device and let tests inject faults and read counters.
 * It shares no code with src/prove or src/flows on purpose: it is a second, independent reading
 * of Prove's API, so a misreading cannot hide in both.
 */
export type { EmulatorOptions, ProveEmulator } from './types.js';
export { createProveEmulator } from './emulator.js';
export { SANDBOX_USERS, type SandboxUser } from './phone.js';
