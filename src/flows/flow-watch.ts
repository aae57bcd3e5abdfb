import type { Flow } from './flow.js';
import { isTerminal } from './state-machine.js';
import { FlowNotFoundError } from './errors.js';
import { DONE, PullIterator } from './pull-iterator.js';

/**
 * FlowService.watch's iterator, written out instead of a Repeater: one object per subscription,
 * with no closures but the listener, and pull-driven (the store is re-read when the consumer asks
 * for the next value and something happened since, as the Repeater's push back-pressure did).
 * 10,000 open subscriptions are 10,000 of these, so every field counts.
 */

export interface FlowWatchSource {
  /** The flow, or FlowNotFoundError. */
  get(id: string): Promise<Flow>;
  /** The flow as stored now (expired if due), or undefined. */
  find(id: string): Promise<Flow | undefined>;
  /** Subscribes `onChange` to the flow's notifications; resolves once in force. */
  listen(id: string, onChange: () => void): Promise<unknown>;
  /** Ends what listen() began (the watch keeps the id and the function, not an unsubscribe closure). */
  unlisten(id: string, onChange: () => void): void;
  now(): number;
}

export class FlowWatch extends PullIterator<Flow> {
  // Of the flow last yielded, only what the next step compares: the flow itself (~0.6 KiB with its
  // strings) would be held by every quiet subscription for as long as it is open.
  /** Its version; undefined until the first read. */
  #version: number | undefined;
  /** Whether its state is final: the watch then ends on the next pull. */
  #terminal = false;
  /** Its expiresAt, on the source's clock. */
  #until = 0;
  #dirty = false;
  #stopped = false;
  /** Settles the next() waiting for something to happen. */
  #wake: ((result: Promise<IteratorResult<Flow>>) => void) | undefined;
  #listening = false;
  #expiresAt = 0;
  readonly #notify = () => {
    this.#dirty = true;
    this.#wakeUp();
  };

  constructor(
    private readonly id: string,
    private readonly source: FlowWatchSource,
    private readonly signal: AbortSignal | undefined,
  ) {
    super();
    signal?.addEventListener('abort', this, { once: true });
  }

  /** The abort signal's listener (an EventListener object, so no closure per subscription). */
  handleEvent(): void {
    this.end();
  }

  /** The expiry wheel's callback: at expiresAt the store is read again (find() expires the flow). */
  expire(): void {
    this.#expiresAt = 0;
    this.#notify();
  }

  protected step(): Promise<IteratorResult<Flow>> {
    if (this.#stopped) return Promise.resolve(DONE);
    return this.#version === undefined ? this.#first() : this.#waitThenRead();
  }

  /** Listens first, and only then reads, so a change made after the read cannot be missed. */
  async #first(): Promise<IteratorResult<Flow>> {
    try {
      if (this.signal?.aborted) return this.end(), DONE;
      await this.source.listen(this.id, this.#notify);
      if (this.#stopped) return this.source.unlisten(this.id, this.#notify), DONE;
      this.#listening = true;
      const flow = this.#keep(await this.source.get(this.id));
      if (this.#stopped) return DONE;
      return { done: false, value: flow };
    } catch (error) {
      this.end();
      throw error;
    }
  }

  /**
   * Reads again once something happened (a notification, the expiry). While the flow is quiet the
   * pending next() is only a promise whose resolver #wakeUp settles with the read, not an async
   * function suspended with its frame: 10,000 quiet subscriptions each hold one.
   */
  #waitThenRead(): Promise<IteratorResult<Flow>> {
    if (this.#stopped || this.#terminal) {
      this.end();
      return Promise.resolve(DONE);
    }
    if (this.#expiresAt === 0) {
      // On the process clock: the source's clock may be a test's.
      this.#expiresAt = Date.now() + Math.max(this.#until - this.source.now(), 0) + 5;
      expiryWheel.add(this, this.#expiresAt);
    }
    if (this.#dirty) return this.#read();
    return new Promise((resolve) => (this.#wake = resolve));
  }

  // No flow in this frame past the read, for the same reason as the fields above.
  async #read(): Promise<IteratorResult<Flow>> {
    try {
      if (this.#stopped) return this.end(), DONE;
      this.#dirty = false;
      const next = await this.source.find(this.id);
      // Gone while not terminal: expiry and retention cannot do that (an expired flow is kept
      // as EXPIRED), only a store that lost its data. Waiting would mean PENDING until the
      // subscriber gives up; the flow can never change again, so the watch ends with that.
      if (!next) throw new FlowNotFoundError(true);
      if (next.version <= this.#version!) return this.#waitThenRead();
      this.#keep(next);
      if (this.#stopped) return this.end(), DONE;
      return { done: false, value: next };
    } catch (error) {
      this.end();
      throw error;
    }
  }

  #keep(flow: Flow): Flow {
    this.#version = flow.version;
    this.#terminal = isTerminal(flow.state);
    this.#until = flow.expiresAt;
    return flow;
  }

  #wakeUp() {
    const wake = this.#wake;
    this.#wake = undefined;
    if (wake) wake(this.#read());
  }

  /** Releases the listener, the expiry entry and the abort listener at once; a pending next() ends. */
  protected end() {
    if (this.#stopped) return;
    this.#stopped = true;
    this.signal?.removeEventListener('abort', this);
    if (this.#listening) this.source.unlisten(this.id, this.#notify);
    this.#listening = false;
    if (this.#expiresAt !== 0) expiryWheel.delete(this, this.#expiresAt);
    this.#wakeUp();
  }
}

/**
 * One timer per process for every watcher's expiry, instead of a setTimeout per subscriber:
 * watchers are kept in buckets of BUCKET_MS by their deadline (rounded up, so none wakes early),
 * and the one timer is set for the earliest bucket. A watcher wakes at most BUCKET_MS after its
 * flow's expiresAt.
 */
const BUCKET_MS = 100;

class ExpiryWheel {
  readonly #buckets = new Map<number, Set<FlowWatch>>();
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;

  add(watch: FlowWatch, at: number): void {
    const bucket = Math.ceil(at / BUCKET_MS) * BUCKET_MS;
    let set = this.#buckets.get(bucket);
    if (!set) this.#buckets.set(bucket, (set = new Set()));
    set.add(watch);
    if (bucket < this.#timerAt) this.#arm(bucket);
  }

  delete(watch: FlowWatch, at: number): void {
    const bucket = Math.ceil(at / BUCKET_MS) * BUCKET_MS;
    const set = this.#buckets.get(bucket);
    if (!set?.delete(watch) || set.size > 0) return;
    this.#buckets.delete(bucket);
    if (this.#buckets.size === 0) this.#disarm();
  }

  /** Live entries (tests). */
  get size(): number {
    let n = 0;
    for (const set of this.#buckets.values()) n += set.size;
    return n;
  }

  #arm(bucket: number) {
    this.#disarm();
    this.#timerAt = bucket;
    this.#timer = setTimeout(() => this.#fire(), Math.max(bucket - Date.now(), 0));
    // Subscriptions keep the process alive through their sockets, not through this timer.
    this.#timer.unref();
  }

  #disarm() {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  #fire() {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = Date.now();
    let earliest = Infinity;
    const due: FlowWatch[] = [];
    for (const [bucket, set] of this.#buckets) {
      if (bucket <= now) {
        this.#buckets.delete(bucket);
        for (const watch of set) due.push(watch);
      } else if (bucket < earliest) earliest = bucket;
    }
    if (earliest !== Infinity) this.#arm(earliest);
    for (const watch of due) watch.expire();
  }
}

export const expiryWheel = new ExpiryWheel();
