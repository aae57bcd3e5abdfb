import type { Keyv } from 'keyv';

/**
 * The write that fences a flow: a record is stored only over an older version of itself, in one
 * step of the store, so a writer that decided on a stale read (its lease lapsed while it waited
 * for Prove, and someone else stored a newer state meanwhile) cannot overwrite the newer state.
 * A check then a write would leave a gap between the two for exactly that writer.
 */
export interface ConditionalWrites {
  /**
   * Stores `value` under the keyv key `key` for `ttlMs` unless the stored value's `version` is at
   * or above `value.version`. True when written, false when the store kept what it had.
   */
  setIfNewer(key: string, value: { version: number }, ttlMs: number): Promise<boolean>;
}

const versionOf = (stored: unknown): number | undefined =>
  typeof stored === 'object' && stored !== null && typeof (stored as { version?: unknown }).version === 'number'
    ? (stored as { version: number }).version
    : undefined;

/**
 * For a store that lives in this process: the read and the write of one key run one after the
 * other, never interleaved with another conditional write of that key.
 */
export function serialWrites(keyv: Keyv): ConditionalWrites {
  const tails = new Map<string, Promise<unknown>>();
  return {
    setIfNewer(key, value, ttlMs) {
      const previous = tails.get(key) ?? Promise.resolve();
      const run = previous.then(async () => {
        const stored = versionOf(await keyv.get(key));
        if (stored !== undefined && stored >= value.version) return false;
        await keyv.set(key, value, ttlMs);
        return true;
      });
      const tail = run.catch(() => undefined);
      tails.set(key, tail);
      void tail.then(() => {
        if (tails.get(key) === tail) tails.delete(key);
      });
      return run;
    },
  };
}

/**
 * The Redis form: one script reads the stored record's version and writes only over an older one.
 * The record is keyv's own serialization (`{"value":…,"expires":…}`), so keyv reads it as any other.
 * One key per call: it works unchanged on a cluster, whatever slot the key hashes to.
 */
export const SET_IF_NEWER = `
local stored = redis.call('get', KEYS[1])
if stored then
  local ok, record = pcall(cjson.decode, stored)
  if ok and type(record) == 'table' and type(record.value) == 'table' then
    local version = tonumber(record.value.version)
    if version and version >= tonumber(ARGV[2]) then return 0 end
  end
end
redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[3])
return 1
`;
