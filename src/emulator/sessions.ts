/**
 * The Unify sessions and their rules: what /v3/unify opens, what the device (/sim/authenticate)
 * does to it, and what /v3/unify-status and /v3/unify-bind answer. Pure in-memory state driven by
 * an injected clock; no HTTP here.
 */
import { randomUUID } from 'node:crypto';
import type { AuthTokenSigner } from './authtoken.js';
import { ApiError, Codes, badCorrelationId, malformed, outOfOrder } from './errors.js';
import type { KeyStore } from './keys.js';
import { canonicalPhone, findSandboxUser, type SandboxUser } from './phone.js';
import type { BindBody, SimAuthenticateBody, StatusBody, UnifyBody } from './validation.js';

export const REASONS = {
  9100: 'phone possession incomplete',
  9101: 'phone number does not match the Prove Key',
} as const;
type ReasonCode = keyof typeof REASONS;

const CORRELATION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Tries the user gets when allowOTPRetry is set, per Prove's documentation. */
const OTP_TRIES = 3;
export const SANDBOX_OTP = '1234';

export interface Outcome {
  success: 'true' | 'false' | 'possession_required';
  phoneNumber: string;
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
type DeviceState =
  | { state: 'pending'; wrongOtps: number }
  | { state: 'finished'; deviceId?: string }
  | { state: 'failed'; reason: ReasonCode };

interface Session {
  correlationId: string;
  possessionType: UnifyBody['possessionType'];
  /** As the caller spelled it: Prove echoes the number as given. */
  phoneNumber: string;
  /** Canonical form, for comparisons (US numbers without +1). */
  phone: string;
  user: SandboxUser;
  createdAt: number;
  allowOTPRetry: boolean;
  rebind: boolean;
  startDeviceId?: string;
  clientHumanId?: string;
  clientRequestId?: string;
  device: DeviceState;
  /** The last status/bind answer; true/false are final and repeated verbatim. */
  answer?: Outcome;
}

export interface SessionOptions {
  flowTtlMs: number;
  otpWindowMs: number;
  linkWindowMs: number;
  now: () => number;
}

const isFinal = (o: Outcome | undefined): boolean => o?.success === 'true' || o?.success === 'false';

export class Sessions {
  private readonly sessions = new Map<string, Session>();
  private created = 0;

  constructor(
    private readonly options: SessionOptions,
    private readonly keys: KeyStore,
    private readonly signer: AuthTokenSigner,
  ) {}

  start(body: UnifyBody): { success: 'pending'; correlationId: string; authToken: string } {
    if (body.phoneNumber === undefined) throw malformed('phoneNumber is required');
    const phone = canonicalPhone(body.phoneNumber);
    const user = findSandboxUser(phone);
    if (!user) throw new ApiError(400, Codes.noTestUser, 'no test user found');
    const now = this.options.now();
    this.sweep(now);
    const correlationId = randomUUID();
    this.sessions.set(correlationId, {
      correlationId,
      possessionType: body.possessionType,
      phoneNumber: body.phoneNumber,
      phone,
      user,
      createdAt: now,
      allowOTPRetry: body.allowOTPRetry ?? false,
      rebind: body.rebind ?? false,
      startDeviceId: body.deviceId,
      clientHumanId: body.clientHumanId,
      clientRequestId: body.clientRequestId,
      device: { state: 'pending', wrongOtps: 0 },
    });
    const authToken = this.signer.sign(correlationId, now, now + this.options.flowTtlMs);
    return { success: 'pending', correlationId, authToken };
  }

  status(body: StatusBody): Outcome {
    const s = this.lookup(body.correlationId);
    if (isFinal(s.answer)) return s.answer!;
    s.answer = this.evaluate(s);
    return s.answer;
  }

  bind(body: BindBody): Outcome {
    const s = this.lookup(body.correlationId);
    const phone = canonicalPhone(body.phoneNumber);
    const device = s.device;
    if (s.possessionType !== 'none' || s.answer?.success !== 'possession_required' || device.state !== 'finished' || !device.deviceId) {
      throw outOfOrder();
    }
    if (phone !== s.phone) {
      s.answer = this.outcome(s, 'false', 9100);
      return s.answer;
    }
    // Binding moves the device's key to this number, whatever it held before.
    this.keys.bind(device.deviceId, s.phone);
    s.answer = this.outcome(s, 'true', undefined, device.deviceId);
    return s.answer;
  }

  /** The device's part (the client SDK's Authenticate()). */
  authenticate(body: SimAuthenticateBody): DeviceResult {
    const correlationId = this.signer.verify(body.authToken);
    if (!correlationId) throw malformed('authToken is not a valid token from this emulator');
    const s = this.sessions.get(correlationId);
    if (!s) throw malformed('authToken refers to no known flow');
    if (this.expired(s)) throw badCorrelationId('flow expired');
    if (s.device.state !== 'pending' || isFinal(s.answer)) {
      throw new ApiError(400, Codes.outOfOrder, 'already completed');
    }
    if (body.phoneNumber !== undefined && canonicalPhone(body.phoneNumber) !== s.phone) {
      // The handset is another line: possession of the flow's number is not shown.
      return this.fail(s, 9100);
    }
    const deviceId = body.deviceId ?? s.startDeviceId;
    switch (s.possessionType) {
      case 'desktop':
        return this.desktop(s, body);
      case 'mobile':
        return this.mobile(s, body, deviceId);
      case 'none':
        return this.none(s, deviceId);
    }
  }

  private desktop(s: Session, body: SimAuthenticateBody): DeviceResult {
    // Instant Link proves possession but places no Prove Key.
    const inWindow = this.options.now() - s.createdAt <= this.options.linkWindowMs;
    return body.instantLink === true && inWindow ? this.finish(s, undefined) : this.fail(s, 9100);
  }

  private mobile(s: Session, body: SimAuthenticateBody, deviceId: string | undefined): DeviceResult {
    const known = deviceId !== undefined && this.keys.has(deviceId);
    const held = known ? this.keys.phoneOf(deviceId) : undefined;
    // rebind forces a full possession check even when the key would have matched.
    if (known && !s.rebind) {
      if (held === s.phone) return this.finish(s, deviceId);
      if (held !== undefined) return this.fail(s, 9101);
    }
    if (body.otp === undefined) {
      if (s.user.behaviour !== 'mobile-auth') {
        throw malformed('otp is required: this user has no Mobile Auth, so the device must enter the SMS code');
      }
    } else {
      if (this.options.now() - s.createdAt > this.options.otpWindowMs) return this.fail(s, 9100);
      if (body.otp !== SANDBOX_OTP) {
        if (s.device.state !== 'pending') return this.fail(s, 9100);
        s.device.wrongOtps += 1;
        return s.allowOTPRetry && s.device.wrongOtps < OTP_TRIES ? { result: 'retry' } : this.fail(s, 9100);
      }
    }
    // Possession proven: reuse the device's key (moving it to this number) or place a new one.
    if (known) {
      this.keys.bind(deviceId, s.phone);
      return this.finish(s, deviceId);
    }
    return this.finish(s, this.keys.create(s.phone));
  }

  private none(s: Session, deviceId: string | undefined): DeviceResult {
    // The customer does the possession check; the device only presents (or receives) a key.
    // A key holding another number is kept as is until unify-bind moves it.
    if (deviceId !== undefined && this.keys.has(deviceId)) return this.finish(s, deviceId);
    return this.finish(s, this.keys.create());
  }

  private finish(s: Session, deviceId: string | undefined): DeviceResult {
    s.device = { state: 'finished', deviceId };
    return deviceId === undefined ? { result: 'finished' } : { result: 'finished', deviceId };
  }

  private fail(s: Session, reason: ReasonCode): DeviceResult {
    s.device = { state: 'failed', reason };
    return { result: 'failed' };
  }

  /** The answer to a (non-repeated) status call, from what the device has done. */
  private evaluate(s: Session): Outcome {
    const device = s.device;
    if (s.user.behaviour === 'instant-pass') {
      const deviceId = device.state === 'finished' ? device.deviceId : undefined;
      const bound = deviceId !== undefined && this.keys.phoneOf(deviceId) === s.phone;
      return this.outcome(s, 'true', undefined, bound ? deviceId : undefined);
    }
    switch (device.state) {
      case 'pending':
        // Prove's sandbox: asking before the client finished ends the flow. The final answer is
        // what closes it: authenticate() refuses any session that has one.
        return this.outcome(s, 'false', 9100);
      case 'failed':
        return this.outcome(s, 'false', device.reason);
      case 'finished': {
        const { deviceId } = device;
        if (s.possessionType === 'none' && (s.rebind || deviceId === undefined || this.keys.phoneOf(deviceId) !== s.phone)) {
          return this.outcome(s, 'possession_required');
        }
        return this.outcome(s, 'true', undefined, deviceId);
      }
    }
  }

  private outcome(s: Session, success: Outcome['success'], reason?: ReasonCode, deviceId?: string): Outcome {
    const authentication: Outcome['evaluation']['authentication'] =
      reason === undefined ? { result: 'pass' } : { result: 'fail', failureReasons: { [String(reason)]: REASONS[reason] } };
    return {
      success,
      phoneNumber: s.phoneNumber,
      ...(success === 'true' ? { proveId: this.keys.proveIdFor(s.phone) } : {}),
      ...(success === 'true' && deviceId !== undefined ? { deviceId } : {}),
      ...(s.clientHumanId !== undefined ? { clientHumanId: s.clientHumanId } : {}),
      ...(s.clientRequestId !== undefined ? { clientRequestId: s.clientRequestId } : {}),
      evaluation: { authentication, risk: { result: 'pass' } },
    };
  }

  /** Finds a live session. The emulator has one OAuth client, so every session is the caller's. */
  private lookup(correlationId: string): Session {
    if (!CORRELATION_ID.test(correlationId)) throw badCorrelationId();
    const s = this.sessions.get(correlationId);
    if (!s) throw badCorrelationId();
    if (this.expired(s)) throw badCorrelationId('correlation id expired');
    return s;
  }

  private expired(s: Session): boolean {
    return this.options.now() - s.createdAt >= this.options.flowTtlMs;
  }

  /** Forgets long-dead sessions now and then, so a long-running emulator stays small. */
  private sweep(now: number): void {
    if (++this.created % 256 !== 0) return;
    const horizon = Math.max(this.options.flowTtlMs * 2, 60 * 60 * 1000);
    for (const [id, s] of this.sessions) if (now - s.createdAt > horizon) this.sessions.delete(id);
  }
}
