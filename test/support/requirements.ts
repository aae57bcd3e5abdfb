/**
 * What a suite needs from the machine (a Redis, a redis-server binary, Chromium), and what happens
 * when it is missing. On a developer's machine the suite skips and says why. In CI (`CI` set), or
 * when the caller promised a Redis by setting `REDIS_URL`, a missing dependency fails the file
 * instead: a green run must mean every test ran.
 */

export interface Requirement {
  /** What is missing, in a user's words ("a Redis at redis://…", "Chromium at /usr/bin/chromium"). */
  what: string;
  /** How to provide it. */
  fix: string;
  /** Set when this requirement was explicitly promised by the environment (e.g. REDIS_URL). */
  promised?: boolean;
}

export class MissingRequirement extends Error {
  override name = 'MissingRequirement';
}

/**
 * true when `available`; otherwise throws in CI or when promised, else warns once and returns
 * false so that the caller can `describe.skipIf(!ok)`.
 */
export function required(available: boolean, requirement: Requirement): boolean {
  if (available) return true;
  const message = `missing ${requirement.what}: ${requirement.fix}`;
  if (process.env.CI || requirement.promised) throw new MissingRequirement(`${message} (CI or an explicit setting requires it; refusing to skip)`);
  console.warn(`skipping: ${message}`);
  return false;
}
