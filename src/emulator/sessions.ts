/**
 * The Unify sessions and their rules: what /v3/unify opens, and what /v3/unify-status and
 * /v3/unify-bind answer. The device's part (/sim/authenticate) is in device.ts. Pure in-memory
 * state driven by an injected clock; no HTTP here.
 */
import { randomUUID } from 'node:crypto';
import type { AuthTokenSigner } from './authtoken.js';
import { ApiError, Codes, badCorrelationId, malformed, outOfOrder } from './errors.js';
import type { KeyStore } from './keys.js';
import { canonicalPhone, findSandboxUser } from './phone.js';
import { serves, type Door } from './regions.js';
import { REASONS, fail, isFinal, learn, type Outcome, type ReasonCode, type Session } from './session.js';
import type { BindBody, StatusBody, UnifyBody } from './validation.js';

const CORRELATION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface SessionOptions {
  flowTtlMs: number;
  otpWindowMs: number;
  linkWindowMs: number;
  now: () => number;
}

export const noTestUser = (): ApiError => new ApiError(400, Codes.noTestUser, 'no test user found');

export class Sessions {
  private readonly sessions = new Map<string, Session>();
  private created = 0;

  constructor(
    readonly options: SessionOptions,
    readonly keys: KeyStore,
    private readonly signer: AuthTokenSigner,
  ) {}

  /**
   * Opens a session. The number may be missing: a proveId from an earlier success names the
   * person; a mobile flow learns it from the device (US Mobile Auth, or the number the person
   * enters); a none flow learns it from the device's Prove Key or from unify-bind. Desktop needs
   * a number to send the Instant Link to.
   */
  start(body: UnifyBody, door: Door = 'global'): { success: 'pending'; correlationId: string; authToken: string } {
    let phoneNumber = body.phoneNumber;
    if (phoneNumber === undefined && body.proveId !== undefined) {
      phoneNumber = this.keys.phoneOfProveId(body.proveId);
      if (phoneNumber === undefined || !serves(door, phoneNumber)) throw malformed('proveId does not identify a customer of this project');
    }
    if (phoneNumber === undefined && body.possessionType === 'mobile' && door === 'eu') {
      // "Mobile Auth in the United States doesn't require a phone number, but all other countries do."
      throw malformed('phoneNumber is required: only US Mobile Auth starts without one');
    }
    if (phoneNumber === undefined && body.possessionType === 'desktop') {
      throw malformed('phoneNumber is required for desktop (the Instant Link goes to it) unless proveId identifies the person');
    }
    const now = this.options.now();
    const s: Session = {
      correlationId: randomUUID(),
      door,
      possessionType: body.possessionType,
      createdAt: now,
      sentAt: now,
      sends: 0,
      allowOTPRetry: body.allowOTPRetry ?? false,
      rebind: body.rebind ?? false,
      startDeviceId: body.deviceId,
      clientHumanId: body.clientHumanId,
      clientRequestId: body.clientRequestId,
      device: { state: 'pending', wrongOtps: 0 },
    };
    if (phoneNumber !== undefined) {
      const phone = canonicalPhone(phoneNumber);
      const user = this.userAt(door, phone);
      learn(s, phone, user, phoneNumber);
      // The first SMS (code or link); none flows send nothing, the customer checks possession.
      if (s.possessionType !== 'none') s.sends = 1;
    }
    this.sweep(now);
    this.sessions.set(s.correlationId, s);
    const authToken = this.signer.sign(s.correlationId, now, now + this.options.flowTtlMs);
    return { success: 'pending', correlationId: s.correlationId, authToken };
  }

  status(body: StatusBody, door: Door = 'global'): Outcome {
    const s = this.lookup(body.correlationId, door);
    if (isFinal(s.answer)) return s.answer!;
    s.answer = this.evaluate(s);
    return s.answer;
  }

  bind(body: BindBody, door: Door = 'global'): Outcome {
    const s = this.lookup(body.correlationId, door);
    const phone = canonicalPhone(body.phoneNumber);
    const device = s.device;
    if (s.possessionType !== 'none' || s.answer?.success !== 'possession_required' || device.state !== 'finished' || !device.deviceId) {
      throw outOfOrder();
    }
    if (s.phone === undefined) {
      // A phone-less none flow: the customer's own check names the number.
      const user = this.userAt(s.door, phone);
      learn(s, phone, user, body.phoneNumber);
    } else if (phone !== s.phone) {
      s.answer = this.outcome(s, 'false', 9100);
      return s.answer;
    }
    // Binding moves the device's key to this number, whatever it held before.
    this.keys.bind(device.deviceId, phone);
    s.answer = this.outcome(s, 'true', undefined, device.deviceId);
    return s.answer;
  }

  /** The session an authToken names, for the device's part; refuses dead or finished ones. */
  forDevice(correlationId: string): Session {
    const s = this.sessions.get(correlationId);
    if (!s) throw malformed('authToken refers to no known flow');
    if (this.expired(s)) throw badCorrelationId('flow expired');
    if (s.device.state !== 'pending' || isFinal(s.answer)) {
      throw new ApiError(400, Codes.outOfOrder, 'already completed');
    }
    return s;
  }

  /** The answer to a (non-repeated) status call, from what the device has done. */
  private evaluate(s: Session): Outcome {
    const device = s.device;
    if (s.user?.behaviour === 'instant-pass') {
      const deviceId = device.state === 'finished' ? device.deviceId : undefined;
      const bound = deviceId !== undefined && this.keys.phoneOf(deviceId) === s.phone;
      return this.outcome(s, 'true', undefined, bound ? deviceId : undefined);
    }
    switch (device.state) {
      case 'pending':
        // Prove's sandbox: asking before the client finished ends the flow. The final answer is
        // what closes it: forDevice() refuses any session that has one.
        fail(s, 9100);
        return this.outcome(s, 'false', 9100);
      case 'failed':
        return this.outcome(s, 'false', device.reason);
      case 'finished': {
        const { deviceId } = device;
        if (s.possessionType === 'none' && (s.rebind || deviceId === undefined || s.phone === undefined || this.keys.phoneOf(deviceId) !== s.phone)) {
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
      ...(s.phoneNumber !== undefined ? { phoneNumber: s.phoneNumber } : {}),
      ...(success === 'true' && s.phone !== undefined ? { proveId: this.keys.proveIdFor(s.phone) } : {}),
      ...(success === 'true' && deviceId !== undefined ? { deviceId } : {}),
      ...(s.clientHumanId !== undefined ? { clientHumanId: s.clientHumanId } : {}),
      ...(s.clientRequestId !== undefined ? { clientRequestId: s.clientRequestId } : {}),
      evaluation: { authentication, risk: { result: 'pass' } },
    };
  }

  /**
   * The sandbox user of a number, as the region behind `door` knows them: the other region's test
   * users are "no test user found" there, as in Prove's sandbox.
   */
  userAt(door: Door, phone: string): NonNullable<Session['user']> {
    const user = serves(door, phone) ? findSandboxUser(phone) : undefined;
    if (!user) throw noTestUser();
    return user;
  }

  /**
   * Finds a live session. The emulator has one OAuth client per door, so every session of a door
   * is its caller's; another region never heard of it.
   */
  private lookup(correlationId: string, door: Door): Session {
    if (!CORRELATION_ID.test(correlationId)) throw badCorrelationId();
    const s = this.sessions.get(correlationId);
    if (!s || s.door !== door) throw badCorrelationId();
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

