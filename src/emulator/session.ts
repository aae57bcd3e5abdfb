/**
 * One Unify session's record and the few rules that change it wherever they are used: learning
 * the number (a phone-less start, a phone-number change), counting send attempts, and finishing
 * or failing the device's part. Pure data and functions; no HTTP, no clock of its own.
 */
import type { SandboxUser } from './phone.js';
import type { Door } from './regions.js';
import type { UnifyBody } from './validation.js';

export const REASONS = {
  9100: 'phone possession incomplete',
  9101: 'phone number does not match the Prove Key',
} as const;
export type ReasonCode = keyof typeof REASONS;

/** The client SDK's phone-number change: "up to three entries or send attempts". */
export const MAX_SEND_ATTEMPTS = 3;

export interface Outcome {
  success: 'true' | 'false' | 'possession_required';
  /** The number Prove verified (or tried); absent while a phone-less flow has not learnt it. */
  phoneNumber?: string;
  proveId?: string;
  deviceId?: string;
  clientHumanId?: string;
  clientRequestId?: string;
  evaluation: {
    authentication: { result: 'pass' | 'fail'; failureReasons?: Record<string, string> };
    risk: { result: 'pass' };
  };
}

export interface DeviceResult {
  result: 'finished' | 'failed' | 'retry';
  deviceId?: string;
}

/** What the device side has done so far. */
export type DeviceState =
  | { state: 'pending'; wrongOtps: number }
  | { state: 'finished'; deviceId?: string }
  | { state: 'failed'; reason: ReasonCode };

export interface Session {
  correlationId: string;
  /** The door (region) that opened it: status and bind through another one do not find it. */
  door: Door;
  possessionType: UnifyBody['possessionType'];
  /** As the caller (or the device) spelled it: Prove echoes the number as given. Undefined until known. */
  phoneNumber?: string;
  /** Canonical form, for comparisons (US numbers without +1). */
  phone?: string;
  user?: SandboxUser;
  createdAt: number;
  /** When the last SMS (OTP or Instant Link) went out: the code's and the link's windows start here. */
  sentAt: number;
  /** SMS sent so far: the first one, resends and sends to a changed number. */
  sends: number;
  /** The number was typed or changed on the device, so only its SMS code proves it. */
  typed?: boolean;
  allowOTPRetry: boolean;
  rebind: boolean;
  startDeviceId?: string;
  clientHumanId?: string;
  clientRequestId?: string;
  device: DeviceState;
  /** The last status/bind answer; true/false are final and repeated verbatim. */
  answer?: Outcome;
}

export const isFinal = (o: Outcome | undefined): boolean => o?.success === 'true' || o?.success === 'false';

/** The session now concerns this number (and this sandbox user). */
export function learn(s: Session, phone: string, user: SandboxUser, spelled: string = phone): void {
  s.phone = phone;
  s.phoneNumber = spelled;
  s.user = user;
}

/** One more SMS; false when the attempts are used up (nothing is sent then). */
export function send(s: Session, now: number): boolean {
  if (s.sends >= MAX_SEND_ATTEMPTS) return false;
  s.sends += 1;
  s.sentAt = now;
  if (s.device.state === 'pending') s.device.wrongOtps = 0;
  return true;
}

export function finish(s: Session, deviceId: string | undefined): DeviceResult {
  s.device = { state: 'finished', deviceId };
  return deviceId === undefined ? { result: 'finished' } : { result: 'finished', deviceId };
}

export function fail(s: Session, reason: ReasonCode): DeviceResult {
  s.device = { state: 'failed', reason };
  return { result: 'failed' };
}
