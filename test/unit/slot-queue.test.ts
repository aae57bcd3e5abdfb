import { describe, expect, it } from 'vitest';
import { memoryBudget } from '../../src/security/upstream-budget.js';
import { SlotQueue } from '../../src/security/slot-queue.js';

/**
 * The order in which calls get the upstream budget's slots when the process is busy. A busy
 * process is made here the way a CPU hog makes it: the event loop blocked while slots come due,
 * so their timers fire late.
 */

const spin = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

class Refused extends Error {
  constructor(readonly retryAfterMs: number) {
    super('refused');
  }
}
const refuse = (retryAfterMs: number) => new Refused(retryAfterMs);

describe('SlotQueue', () => {
  it('slots that fire late are replaced, and the calls keep the order they came in', async () => {
    // 10/s: slots 108 ms apart, a slot may be used up to 54 ms late.
    const budget = memoryBudget(10);
    const queue = new SlotQueue({ budget, maxWaitMs: 5_000, lateToleranceMs: budget.intervalMs / 2 });
    const order: string[] = [];
    const calls = ['a', 'b', 'c', 'd', 'e'].map((name) => queue.admit(refuse).then(() => order.push(name)));
    await calls[0];
    // Busy past the slots of b (108 ms) and c (216 ms): both fire far too late to be used.
    spin(300);
    await Promise.all(calls);
    // Were a late call to queue again itself, d and e would overtake b and c.
    expect(order).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(queue.waiting).toBe(0);
  });

  it('calls go no closer together than the budget spaces its slots, and in order', async () => {
    const budget = memoryBudget(50);
    const queue = new SlotQueue({ budget, maxWaitMs: 5_000, lateToleranceMs: budget.intervalMs / 2 });
    const went: number[] = [];
    await Promise.all(Array.from({ length: 10 }, (_, i) => queue.admit(refuse).then(() => (went[i] = performance.now()))));
    for (let i = 1; i < went.length; i++) expect(went[i]! - went[i - 1]!).toBeGreaterThan(0);
    // Ten slots 21.6 ms apart: the last goes no sooner than nine intervals after the first.
    expect(went.at(-1)! - went[0]!).toBeGreaterThanOrEqual(9 * budget.intervalMs - 2);
  });

  it('a call the budget cannot take within its wait is refused at once, and takes no slot', async () => {
    const budget = memoryBudget(10);
    const queue = new SlotQueue({ budget, maxWaitMs: 150, lateToleranceMs: budget.intervalMs / 2 });
    const first = queue.admit(refuse);
    const second = queue.admit(refuse);
    const refused = await queue.admit(refuse).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(Refused);
    expect((refused as Refused).retryAfterMs).toBeGreaterThan(0);
    await Promise.all([first, second]);
    expect(queue.waiting).toBe(0);
  });

  it('when late slots leave no slot within a waiting call\'s wait, it is refused rather than kept past it', async () => {
    const budget = memoryBudget(10);
    const queue = new SlotQueue({ budget, maxWaitMs: 250, lateToleranceMs: budget.intervalMs / 2 });
    const outcomes: string[] = [];
    const calls = ['a', 'b', 'c'].map((name) =>
      queue.admit(refuse).then(
        () => outcomes.push(`${name} went`),
        (error: unknown) => outcomes.push(`${name} ${error instanceof Refused ? 'refused' : String(error)}`),
      ),
    );
    await calls[0];
    // b's and c's slots (108, 216 ms) both fire too late to use, and their 250 ms are up.
    spin(300);
    await Promise.all(calls);
    expect(outcomes[0]).toBe('a went');
    expect(outcomes.slice(1).sort()).toEqual(['b refused', 'c refused']);
    expect(queue.waiting).toBe(0);
  });
});
