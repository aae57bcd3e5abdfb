/**
 * Prove's phone number rules and the sandbox test users.
 * A US number may come with or without +1 (2001004014 and +12001004014 are one user);
 * any other number needs + and its country code.
 */
import { malformed } from './errors.js';

export type UserBehaviour = 'instant-pass' | 'full' | 'mobile-auth';

export interface SandboxUser {
  phoneNumber: string;
  behaviour: UserBehaviour;
  description: string;
}

export const SANDBOX_USERS: readonly SandboxUser[] = [
  { phoneNumber: '2001004018', behaviour: 'instant-pass', description: 'passes possession without any client step (status true at once, no deviceId)' },
  { phoneNumber: '+2001004029', behaviour: 'instant-pass', description: 'same, international' },
  // International sandbox users. Prove lists the numbers without their behaviour: full flows are
  // the useful default, and +2001004043 stands for Mobile Auth outside the US (which needs the number).
  { phoneNumber: '+2001004025', behaviour: 'full', description: 'international full flow: pending until the device authenticates' },
  { phoneNumber: '+2001004026', behaviour: 'full', description: 'international full flow: pending until the device authenticates' },
  { phoneNumber: '+2001004027', behaviour: 'full', description: 'international full flow: pending until the device authenticates' },
  { phoneNumber: '+2001004028', behaviour: 'full', description: 'international full flow: pending until the device authenticates' },
  { phoneNumber: '+2001004043', behaviour: 'mobile-auth', description: 'international Mobile Auth user: on mobile, authenticates without an OTP (the number is still required at start)' },
  { phoneNumber: '2001004014', behaviour: 'full', description: 'full flow: pending until the device authenticates (OTP 1234, Instant Link or Prove Key)' },
  { phoneNumber: '2001004015', behaviour: 'full', description: 'full flow: pending until the device authenticates (OTP 1234, Instant Link or Prove Key)' },
  { phoneNumber: '2001004016', behaviour: 'mobile-auth', description: 'Mobile Auth user: on mobile, authenticates without an OTP' },
  { phoneNumber: '2001004017', behaviour: 'mobile-auth', description: 'Mobile Auth user: on mobile, authenticates without an OTP' },
  { phoneNumber: '2001004041', behaviour: 'mobile-auth', description: 'Mobile Auth user: on mobile, authenticates without an OTP' },
];

const CHARSET = /^[A-Za-z0-9+]+$/;

/**
 * Canonical identity of a number: US numbers lose their +1 so both spellings are one subscriber.
 * Throws 8001 naming `field` when the number breaks Prove's format rules.
 */
export function canonicalPhone(raw: string, field = 'phoneNumber'): string {
  if (raw.length === 0) throw malformed(`${field} is required`);
  if (!CHARSET.test(raw)) throw malformed(`${field} may contain only letters, digits and +`);
  if (raw.startsWith('+')) {
    const rest = raw.slice(1);
    if (!/^[A-Za-z0-9]{4,15}$/.test(rest)) throw malformed(`${field} must be + followed by the country code and number`);
    return rest.startsWith('1') && rest.length === 11 ? rest.slice(1) : raw;
  }
  if (raw.includes('+')) throw malformed(`${field} may contain + only at the start`);
  if (raw.length !== 10) throw malformed(`${field} must be a 10-digit US number, or + and the country code`);
  return raw;
}

const byCanonical = new Map(SANDBOX_USERS.map((u) => [canonicalPhone(u.phoneNumber), u]));

export function findSandboxUser(canonical: string): SandboxUser | undefined {
  return byCanonical.get(canonical);
}
