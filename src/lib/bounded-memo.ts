/**
 * Results of a pure function of a string, remembered for the last `max` distinct inputs (the
 * oldest forgotten first; a hit does not reorder, so it costs one Map lookup). For hot paths
 * that see the same few inputs again and again: the same flow polled, the same request body.
 */
export class BoundedMemo<V> {
  readonly #entries = new Map<string, V>();

  /** `keep` says which results are remembered (default all); the others are made again each time. */
  constructor(
    private readonly make: (input: string) => V,
    private readonly max: number,
    private readonly keep: (value: V) => boolean = () => true,
  ) {}

  get(input: string): V {
    let value = this.#entries.get(input);
    if (value === undefined && !this.#entries.has(input)) {
      value = this.make(input);
      if (!this.keep(value)) return value;
      if (this.#entries.size >= this.max) this.#entries.delete(this.#entries.keys().next().value!);
      this.#entries.set(input, value);
    }
    return value as V;
  }
}

/** Freezes a parsed JSON value all the way down, so a value handed out twice cannot be changed by one holder. */
export function deepFreeze<T>(value: T): T {
  // A Buffer (keyv's ':base64:' values) cannot be frozen: it stays as it is.
  if (typeof value === 'object' && value !== null && !ArrayBuffer.isView(value) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
