import type { Keyv } from 'keyv';
import type { Logger } from 'pino';
import type { Flow } from '../flows/flow.js';
import { sha256 } from '../lib/hash.js';
import { BoundedMemo } from '../lib/bounded-memo.js';
import { UnsavedStarts, type UnsavedStart } from './unsaved-starts.js';
import type { RequestClaim } from './request-claim.js';
import { serialWrites, type ConditionalWrites } from './conditional-write.js';

/**
 * Flows in the store. Keys are hashes, so key listings (SCAN, KEYS, slow logs) and pub/sub channel
 * names do not show flow ids, client request ids or customer ids. Values are the records
 * themselves, id, authToken and full number included: whoever can read values can act on flows,
 * so Redis must be guarded like the gateway's own memory (see README, Deployment).
 */

/** How long a finished flow stays readable through `flow(id)` after it expired. */
const RETENTION_MS = 60 * 60_000;

/** Every read of a flow derives its key: the ids polled now keep theirs. */
const flowKeys = new BoundedMemo(sha256, 1024);

export const flowKey = (id: string): string => flowKeys.get(id);

/**
 * A start hashes its clientRequestId for its lease and for its claim, several times over: the
 * starts of the last moments keep theirs. The same hash as flowKey's, so a start's lease name
 * (`start:` and this) is what it has always been.
 */
const requestKeys = new BoundedMemo(sha256, 256);

export const requestKey = (clientRequestId: string): string => requestKeys.get(clientRequestId);

export type { RequestClaim } from './request-claim.js';

const hashed = (prefix: string, value: string) => `${prefix}:${sha256(value)}`;

export class FlowRepository {
  /** Started flows the store refused after Prove answered, retried until stored (unsaved-starts.ts). */
  readonly unsaved: UnsavedStarts;

  /**
   * `writes` is the store's own fenced write (Store.writes); the default serialises writes within
   * this process only, enough for a memory store and for tests of one repository.
   */
  constructor(
    private readonly keyv: Keyv,
    private readonly now: () => number = Date.now,
    logger?: Logger,
    private readonly writes: ConditionalWrites = serialWrites(keyv),
  ) {
    this.unsaved = new UnsavedStarts({ write: (start) => this.#writeStart(start), logger, now });
  }

  async get(id: string): Promise<Flow | undefined> {
    return this.unsaved.flow(id) ?? (await this.keyv.get<Flow>(`flow:${flowKey(id)}`)) ?? undefined;
  }

  /**
   * Stores the flow unless the store holds the same or a newer version of it (the fence: see
   * conditional-write.ts). True when written; false when someone else stored first.
   */
  async save(flow: Flow): Promise<boolean> {
    const ttl = Math.max(flow.expiresAt - this.now(), 0) + RETENTION_MS;
    const written = await this.writes.setIfNewer(`flow:${flowKey(flow.id)}`, flow, ttl);
    // A kept start that moved on: its retry must write this state, not the older one.
    if (written && this.unsaved.size > 0) this.unsaved.update(flow);
    return written;
  }

  /**
   * A flow Prove has just started, with its claim. Never loses it: if the store refuses, the
   * flow is kept in memory (and read from there) and written again until the store takes it.
   * Answers whether it is stored now.
   */
  async saveStarted(start: UnsavedStart): Promise<boolean> {
    try {
      await this.#writeStart(start);
      return true;
    } catch {
      this.unsaved.keep(start);
      return false;
    }
  }

  async #writeStart({ flow, clientRequestId, claim }: UnsavedStart): Promise<void> {
    await this.save(flow);
    await this.saveRequest(clientRequestId, claim, Math.max(flow.expiresAt - this.now(), 1_000));
  }

  /**
   * Marks a flow id as started ahead of unify (write-ahead-start.ts), for the time a flow lives:
   * a reader on another instance that finds this mark but no flow knows the flow exists and its
   * record is on the way (held by the starting instance through a store outage), not unknown.
   */
  async reserveFlow(id: string, ttlMs: number): Promise<void> {
    await this.keyv.set(`flow-reserved:${flowKey(id)}`, 1, ttlMs);
  }

  async isReserved(id: string): Promise<boolean> {
    return (await this.keyv.get(`flow-reserved:${flowKey(id)}`)) !== undefined;
  }

  async forgetReservation(id: string): Promise<void> {
    await this.keyv.delete(`flow-reserved:${flowKey(id)}`);
  }

  async findRequest(clientRequestId: string): Promise<RequestClaim | undefined> {
    return this.unsaved.claim(clientRequestId) ?? (await this.keyv.get<RequestClaim>(`request:${requestKey(clientRequestId)}`)) ?? undefined;
  }

  async forgetRequest(clientRequestId: string): Promise<void> {
    await this.keyv.delete(`request:${requestKey(clientRequestId)}`);
  }

  async saveRequest(clientRequestId: string, claim: RequestClaim, ttlMs: number): Promise<void> {
    await this.keyv.set(`request:${requestKey(clientRequestId)}`, claim, ttlMs);
  }

  /** Prove Key registration recovery: the device of a customer's last successful flow, per API key. */
  async lastDevice(scope: string, clientCustomerId: string): Promise<string | undefined> {
    return (await this.keyv.get<string>(hashed('device', `${scope}\0${clientCustomerId}`))) ?? undefined;
  }

  async rememberDevice(scope: string, clientCustomerId: string, deviceId: string): Promise<void> {
    // Prove deactivates keys after 12 months without use.
    await this.keyv.set(hashed('device', `${scope}\0${clientCustomerId}`), deviceId, 365 * 24 * 3_600_000);
    // Which customer remembers this device, so a revocation can find it (forgetDevice).
    await this.keyv.set(hashed('device-owner', `${scope}\0${deviceId}`), clientCustomerId, 365 * 24 * 3_600_000);
  }

  /** A revoked Prove Key: no later start of that customer may send it as registration recovery. */
  async forgetDevice(scope: string, deviceId: string): Promise<void> {
    const ownerKey = hashed('device-owner', `${scope}\0${deviceId}`);
    const clientCustomerId = await this.keyv.get<string>(ownerKey);
    if (clientCustomerId === undefined) return;
    const deviceKey = hashed('device', `${scope}\0${clientCustomerId}`);
    // Only if it is still that customer's device: a newer one stays remembered.
    if ((await this.keyv.get<string>(deviceKey)) === deviceId) await this.keyv.delete(deviceKey);
    await this.keyv.delete(ownerKey);
  }
}
