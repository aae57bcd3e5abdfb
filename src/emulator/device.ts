/**
 * The device's part of a flow: what the Prove client SDK's Authenticate() does on the person's
 * phone or browser (/sim/authenticate). Prove Key, Mobile Auth, SMS OTP, Instant Link, and the
 * client SDK's phone-number change and resend (at most three send attempts).
 */
import type { AuthTokenSigner } from './authtoken.js';
import { malformed } from './errors.js';
import { canonicalPhone, findSandboxUser } from './phone.js';
import type { Sessions } from './sessions.js';
import { serves } from './regions.js';
import { fail, finish, learn, send, type DeviceResult, type Session } from './session.js';
import type { SimAuthenticateBody } from './validation.js';

/** Tries the user gets when allowOTPRetry is set, per Prove's documentation. */
const OTP_TRIES = 3;
export const SANDBOX_OTP = '1234';

export interface DeviceOptions {
  /**
   * The client SDK's phone-number change (Prove enables it per credential): a device may verify
   * another number than the one the flow started with. Off: a device on another line fails.
   */
  phoneNumberChange: boolean;
}

export class Device {
  constructor(
    private readonly sessions: Sessions,
    private readonly signer: AuthTokenSigner,
    private readonly options: DeviceOptions,
  ) {}

  authenticate(body: SimAuthenticateBody): DeviceResult {
    const correlationId = this.signer.verify(body.authToken);
    if (!correlationId) throw malformed('authToken is not a valid token from this emulator');
    const s = this.sessions.forDevice(correlationId);
    const now = this.sessions.options.now();

    const sentBefore = s.sends;
    if (body.phoneNumber !== undefined) {
      const ended = this.enterNumber(s, body.phoneNumber, now);
      if (ended) return ended;
    }
    if (body.resend === true) {
      if (s.phone === undefined || s.possessionType === 'none') throw malformed('resend: this flow has sent nothing to resend');
      // A change of number already sent its SMS: asking for it is one send, not two.
      if (s.sends === sentBefore && !send(s, now)) return fail(s, 9100);
      // A new code or link is on its way; the device answers with it in a later call.
      if (body.otp === undefined && body.instantLink === undefined) return { result: 'retry' };
    }
    const deviceId = body.deviceId ?? s.startDeviceId;
    switch (s.possessionType) {
      case 'desktop':
        return this.desktop(s, body, now);
      case 'mobile':
        return this.mobile(s, body, deviceId, now);
      case 'none':
        return this.none(s, deviceId);
    }
  }

  /**
   * The number the device supplies: the one Mobile Auth found or the person typed on a
   * phone-less flow, or a changed number. Returns a result when the call ends here.
   */
  private enterNumber(s: Session, raw: string, now: number): DeviceResult | undefined {
    if (s.possessionType === 'none') throw malformed('phoneNumber is not used on none flows: the customer checks possession');
    const entered = canonicalPhone(raw);
    if (entered === s.phone) return undefined;
    if (s.phone !== undefined && !this.options.phoneNumberChange) {
      // The handset is another line, and this credential may not change numbers.
      return fail(s, 9100);
    }
    const user = this.sessions.userAt(s.door, entered);
    // Mobile Auth identifies the line without an SMS, on a phone-less start only in the US ("all
    // other countries" need the number at start); any other entry or change sends one.
    const mobileAuth = s.possessionType === 'mobile' && user.behaviour === 'mobile-auth' && s.phone === undefined && !entered.startsWith('+');
    if (!mobileAuth && !send(s, now)) return fail(s, 9100);
    learn(s, entered, user, raw);
    // A typed (or changed) number is proven by its SMS code, whatever the user could do otherwise.
    s.typed = !mobileAuth;
    return undefined;
  }

  private desktop(s: Session, body: SimAuthenticateBody, now: number): DeviceResult {
    // Instant Link proves possession but places no Prove Key.
    const inWindow = now - s.sentAt <= this.sessions.options.linkWindowMs;
    return body.instantLink === true && inWindow ? finish(s, undefined) : fail(s, 9100);
  }

  private mobile(s: Session, body: SimAuthenticateBody, deviceId: string | undefined, now: number): DeviceResult {
    const { keys } = this.sessions;
    const known = deviceId !== undefined && keys.has(deviceId);
    const held = known ? keys.phoneOf(deviceId) : undefined;
    if (s.phone === undefined) {
      // Phone-less: the device's Prove Key names the person, or the device must supply the number.
      const user = held === undefined || !serves(s.door, held) ? undefined : findSandboxUser(held);
      if (user && held !== undefined && !s.rebind) {
        learn(s, held, user);
        return finish(s, deviceId);
      }
      throw malformed('phoneNumber is required: this flow started without one, so the device supplies it (Mobile Auth or entry)');
    }
    // rebind forces a full possession check even when the key would have matched.
    if (known && !s.rebind) {
      if (held === s.phone) return finish(s, deviceId);
      if (held !== undefined) return fail(s, 9101);
    }
    if (body.otp === undefined) {
      if (s.user?.behaviour !== 'mobile-auth' || s.typed) {
        throw malformed('otp is required: this user has no Mobile Auth, so the device must enter the SMS code');
      }
    } else {
      if (now - s.sentAt > this.sessions.options.otpWindowMs) return fail(s, 9100);
      if (body.otp !== SANDBOX_OTP) {
        if (s.device.state !== 'pending') return fail(s, 9100);
        s.device.wrongOtps += 1;
        return s.allowOTPRetry && s.device.wrongOtps < OTP_TRIES ? { result: 'retry' } : fail(s, 9100);
      }
    }
    // Possession proven: reuse the device's key (moving it to this number) or place a new one.
    if (known) {
      keys.bind(deviceId, s.phone);
      return finish(s, deviceId);
    }
    return finish(s, keys.create(s.phone));
  }

  private none(s: Session, deviceId: string | undefined): DeviceResult {
    // The customer does the possession check; the device only presents (or receives) a key.
    // A key holding another number is kept as is until unify-bind moves it.
    const { keys } = this.sessions;
    if (deviceId === undefined || !keys.has(deviceId)) return finish(s, keys.create());
    const held = keys.phoneOf(deviceId);
    const user = held === undefined || !serves(s.door, held) ? undefined : findSandboxUser(held);
    // A phone-less none flow learns the number from the key it meets.
    if (s.phone === undefined && user && held !== undefined && !s.rebind) learn(s, held, user);
    return finish(s, deviceId);
  }
}
