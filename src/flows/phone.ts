import { parsePhoneNumberFromString, type PhoneNumber } from 'libphonenumber-js/max';
import { BoundedMemo } from '../lib/bounded-memo.js';
import { InvalidInputError } from './errors.js';

/**
 * Phone number rules: what a person may type, what reaches Prove (E.164), and which numbers a
 * public SMS-sending endpoint must refuse outright.
 */

/** Prove's sandbox test users. They are not valid numbers by the numbering plan, so they get a pass
 *  only when the gateway talks to a sandbox (the emulator or a uat-* host). */
export const SANDBOX_NUMBERS: ReadonlySet<string> = new Set([
  '+12001004014', '+12001004015', '+12001004016', '+12001004017', '+12001004018', '+12001004041',
  // International (Prove's EU sandbox): libphonenumber reads them as invalid Egyptian numbers.
  '+2001004025', '+2001004026', '+2001004027', '+2001004028', '+2001004029', '+2001004043',
]);

/** Types that cannot receive an SMS or cost the sender per message: the SMS-pumping targets. */
const REFUSED_TYPES = new Set(['PREMIUM_RATE', 'SHARED_COST', 'TOLL_FREE', 'UAN', 'VOICEMAIL', 'PAGER']);

export interface PhonePolicy {
  sandbox: boolean;
  /** ISO 3166 alpha-2; empty allows every country. */
  allowedCountries: readonly string[];
}

const TYPED_FORMAT = /^[0-9+\-(). ]{1,32}$/;

/**
 * What libphonenumber reads in a typed number, each fact worked out once. Reading one costs
 * 0.1-0.2 ms of CPU (its matchers build their regular expressions on every call), and a flow reads
 * a number at least twice: as typed at start, and as Prove reports it on status (US numbers
 * without +1, as people usually type them). Only possible numbers are kept, the last 1,000.
 */
class Reading {
  #valid: boolean | undefined;
  #type: ReturnType<PhoneNumber['getType']> | null = null;

  constructor(private readonly parsed: PhoneNumber) {}

  get e164(): string {
    return this.parsed.number;
  }

  get country(): string | undefined {
    return this.parsed.country;
  }

  get valid(): boolean {
    return (this.#valid ??= this.parsed.isValid());
  }

  get type(): ReturnType<PhoneNumber['getType']> {
    if (this.#type === null) this.#type = this.parsed.getType();
    return this.#type;
  }
}

const read = (typed: string): Reading | undefined => {
  const parsed = parsePhoneNumberFromString(typed, 'US');
  return parsed && parsed.isPossible() ? new Reading(parsed) : undefined;
};
const readings = new BoundedMemo(read, 1_000, (reading) => reading !== undefined);

/** Normalises what a person typed to E.164, or throws InvalidInputError naming `field`. */
export function normalisePhoneNumber(input: string, policy: PhonePolicy, field = 'phoneNumber'): string {
  const typed = input.trim();
  if (!TYPED_FORMAT.test(typed)) {
    throw new InvalidInputError(field, 'A phone number may contain only digits, spaces and + - ( ) . (at most 32 characters)');
  }
  const reading = readings.get(typed);
  if (!reading) throw new InvalidInputError(field, 'This is not a possible phone number');
  const e164 = reading.e164;
  if (policy.sandbox && SANDBOX_NUMBERS.has(e164)) return e164;
  if (!reading.valid) throw new InvalidInputError(field, 'This is not a valid phone number');
  const type = reading.type;
  if (type && REFUSED_TYPES.has(type)) {
    throw new InvalidInputError(field, 'Premium-rate, shared-cost and toll-free numbers cannot receive verification messages');
  }
  if (policy.allowedCountries.length && !(reading.country && policy.allowedCountries.includes(reading.country))) {
    throw new InvalidInputError(field, `Phone numbers from ${reading.country ?? 'this region'} are not accepted here`);
  }
  return e164;
}

/** What a public caller may see of a number: its last four digits. */
export const maskPhoneNumber = (e164: string): string => `***${e164.slice(-4)}`;

/** What a log line may contain of a number: its country prefix and last two digits at most. */
export const redactPhoneNumber = (e164: string): string => `${e164.slice(0, 2)}…${e164.slice(-2)}`;
