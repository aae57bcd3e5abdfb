/**
 * The inputs that say who the person is besides the phone number, and when the number may be
 * left out: Prove's character rules for emailAddress and ipAddress, proveId as an opaque id, and
 * the end user's IP address for public callers filled from the connection.
 */
import { isIP } from 'node:net';
import { InvalidInputError } from './errors.js';
import type { PossessionType } from './flow.js';

/** Prove: emailAddress is "alphanumeric with symbols '@.+'". */
const EMAIL = /^[A-Za-z0-9.+]+@[A-Za-z0-9.+]+$/;
/** Prove: ipAddress is "alphanumeric with '.:' symbols" (so no IPv6 zone ids, no CIDR). */
const IP_CHARS = /^[A-Za-z0-9.:]+$/;
const PROVE_ID = /^[\x21-\x7e]{1,128}$/;

export interface IdentityInput {
  proveId?: string | null;
  emailAddress?: string | null;
  ipAddress?: string | null;
}

export interface ValidIdentity {
  proveId?: string;
  emailAddress?: string;
  ipAddress?: string;
}

export function validateIdentity(input: IdentityInput, caller: { trusted: boolean; address?: string }): ValidIdentity {
  const out: ValidIdentity = {};
  if (input.proveId !== null && input.proveId !== undefined) {
    if (!PROVE_ID.test(input.proveId)) throw new InvalidInputError('proveId', 'proveId must be 1 to 128 printable ASCII characters without spaces');
    out.proveId = input.proveId;
  }
  if (input.emailAddress !== null && input.emailAddress !== undefined) {
    if (input.emailAddress.length > 254 || !EMAIL.test(input.emailAddress)) {
      throw new InvalidInputError('emailAddress', 'emailAddress must be name@domain of letters, digits and . + (Prove accepts no other characters)');
    }
    out.emailAddress = input.emailAddress;
  }
  if (input.ipAddress !== null && input.ipAddress !== undefined) {
    // A public caller is the end user: what it claims is worth less than the address we see.
    if (!caller.trusted) throw new InvalidInputError('ipAddress', 'Only trusted callers may set ipAddress; for public callers the gateway sends the address it sees');
    if (!isIP(input.ipAddress) || !IP_CHARS.test(input.ipAddress)) {
      throw new InvalidInputError('ipAddress', 'ipAddress must be an IPv4 or IPv6 address (letters, digits, . and : only)');
    }
    out.ipAddress = input.ipAddress;
  } else if (!caller.trusted && caller.address) {
    // The end user's address, for Prove's risk checks; IPv4-mapped IPv6 is sent as plain IPv4.
    const address = caller.address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
    if (isIP(address) && IP_CHARS.test(address)) out.ipAddress = address;
  }
  return out;
}

/**
 * Prove needs no number for US Mobile Auth (MOBILE), when a proveId names the person, or for
 * customer-supplied possession (NONE: the device's Prove Key or the later bind names it). An
 * Instant Link (DESKTOP) must go somewhere.
 */
export function requirePhoneNumber(possessionType: PossessionType, proveId: string | undefined): void {
  if (possessionType === 'DESKTOP' && proveId === undefined) {
    throw new InvalidInputError('phoneNumber', 'phoneNumber (or proveId) is required for DESKTOP: the Instant Link is sent to it');
  }
}
