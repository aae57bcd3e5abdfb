
/**
 * Hands the budget's slots to waiting calls in the order the calls arrived. Every arrival reserves
 * one slot, but a slot does not belong to the call that reserved it: when a slot comes due, the
 * oldest waiting call goes. A slot whose timer fires late (the process was busy: a CPU hog beside
 * it, a long GC) is not used, because a late call would go out next to the calls of the following
 * slots and such clumps exceed Prove's per-second count; a new slot is reserved in its place, and
 * the calls keep their order. Were the late call itself to queue again behind every later arrival,
 * then under CPU contention, where every call is sometimes late, calls would overtake each other
 * and the unlucky ones give up although their turn had come.
 */

/** Where slots come from (an UpstreamBudget): the wait for the next free one, or more than maxWaitMs for none. */
export interface SlotSource {
  reserve(maxWaitMs: number): Promise<number>;
}

export interface SlotQueueOptions {
  budget: SlotSource;
  /** The longest a call waits in all; past it the call is refused. */
  maxWaitMs: number;
  /** How late a slot may fire and still be used. */
  lateToleranceMs: number;
  now?: () => number;
}

/** The error for a call the budget cannot take within its wait: `retryAfterMs` says when to try again. */
export type Refusal = (retryAfterMs: number) => Error;

interface Waiter {
  go: () => void;
  refuse: Refusal;
  fail: (error: Error) => void;
  deadline: number;
  timer: NodeJS.Timeout;
}

export class SlotQueue {
  readonly #waiters: Waiter[] = [];
  readonly #options: SlotQueueOptions;
  readonly #now: () => number;

  constructor(options: SlotQueueOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Calls waiting for a slot (tests, metrics). */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** Resolves when it is this call's turn; rejects with `refuse(...)` when it would wait too long. */
  async admit(refuse: Refusal): Promise<void> {
    const { budget, maxWaitMs } = this.#options;
    const began = this.#now();
    const wait = await budget.reserve(maxWaitMs);
    // Refused: the budget took no slot.
    if (wait > maxWaitMs) throw refuse(wait - maxWaitMs);
    const deadline = began + maxWaitMs;
    const turn = new Promise<void>((go, fail) => {
      const waiter: Waiter = { go, refuse, fail, deadline, timer: undefined as unknown as NodeJS.Timeout };
      // A call still waiting at its deadline (slots it was counting on fired late) gives up; the
      // slot it reserved then serves the next caller.
      waiter.timer = setTimeout(() => this.#giveUp(waiter), Math.max(deadline - this.#now(), 0));
      this.#waiters.push(waiter);
    });
    this.#slotAt(this.#now() + wait);
    return turn;
  }

  #slotAt(due: number) {
    const wait = due - this.#now();
    if (wait <= 0) return this.#slotDue(due);
    setTimeout(() => this.#slotDue(due), wait);
  }

  #slotDue(due: number) {
    if (this.#now() - due <= this.#options.lateToleranceMs) {
      const head = this.#waiters.shift();
      if (!head) return;
      clearTimeout(head.timer);
      head.go();
      return;
    }
    // Too late to use: a new slot for the queue, within what the youngest waiter has left.
    const tail = this.#waiters.at(-1);
    if (!tail) return;
    const allowed = tail.deadline - this.#now();
    this.#options.budget.reserve(Math.max(allowed, 0)).then(
      (wait) => {
        if (wait <= allowed) return this.#slotAt(this.#now() + wait);
        // No slot within the youngest waiter's wait: it is refused now rather than at its deadline.
        const youngest = this.#waiters.at(-1);
        if (youngest && this.#remove(youngest)) youngest.fail(youngest.refuse(wait - allowed));
      },
      (error: Error) => {
        const youngest = this.#waiters.at(-1);
        if (youngest && this.#remove(youngest)) youngest.fail(error);
      },
    );
  }

  #giveUp(waiter: Waiter) {
    if (this.#remove(waiter)) waiter.fail(waiter.refuse(1_000));
  }

  #remove(waiter: Waiter): boolean {
    const at = this.#waiters.indexOf(waiter);
    if (at < 0) return false;
    this.#waiters.splice(at, 1);
    clearTimeout(waiter.timer);
    return true;
  }
}
