import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
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

/** Normalises what a person typed to E.164, or throws InvalidInputError naming `field`. */
export function normalisePhoneNumber(input: string, policy: PhonePolicy, field = 'phoneNumber'): string {
  const typed = input.trim();
  if (!TYPED_FORMAT.test(typed)) {
    throw new InvalidInputError(field, 'A phone number may contain only digits, spaces and + - ( ) . (at most 32 characters)');
  }
  const parsed = parsePhoneNumberFromString(typed, 'US');
  if (!parsed || !parsed.isPossible()) throw new InvalidInputError(field, 'This is not a possible phone number');
  const e164 = parsed.number;
  if (policy.sandbox && SANDBOX_NUMBERS.has(e164)) return e164;
  if (!parsed.isValid()) throw new InvalidInputError(field, 'This is not a valid phone number');
  const type = parsed.getType();
  if (type && REFUSED_TYPES.has(type)) {
    throw new InvalidInputError(field, 'Premium-rate, shared-cost and toll-free numbers cannot receive verification messages');
  }
  if (policy.allowedCountries.length && !(parsed.country && policy.allowedCountries.includes(parsed.country))) {
    throw new InvalidInputError(field, `Phone numbers from ${parsed.country ?? 'this region'} are not accepted here`);
  }
  return e164;
}

/** What a public caller may see of a number: its last four digits. */
export const maskPhoneNumber = (e164: string): string => `***${e164.slice(-4)}`;

/** What a log line may contain of a number: its country prefix and last two digits at most. */
export const redactPhoneNumber = (e164: string): string => `${e164.slice(0, 2)}…${e164.slice(-2)}`;
