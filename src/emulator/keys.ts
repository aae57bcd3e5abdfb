/**
 * The Prove Key model: a key lives on a device (named by its deviceId) and holds at most one
 * phone number. Binding a key to a number replaces whatever it held, which is how "rebind"
 * moves a key. Also the per-number proveId, which Prove keeps stable for a subscriber.
 */
import { randomBytes, randomUUID } from 'node:crypto';

export class KeyStore {
  /** deviceId -> canonical phone number it holds (undefined = unbound). */
  private readonly keys = new Map<string, string | undefined>();
  private readonly proveIds = new Map<string, string>();
  private readonly revoked = new Set<string>();

  /** A new key; deviceIds are opaque and unguessable, like Prove's. */
  create(phone?: string): string {
    const deviceId = randomBytes(16).toString('base64url');
    this.keys.set(deviceId, phone);
    return deviceId;
  }

  has(deviceId: string): boolean {
    return this.keys.has(deviceId);
  }

  /** The number a key holds; undefined for an unknown or unbound key. */
  phoneOf(deviceId: string): string | undefined {
    return this.keys.get(deviceId);
  }

  bind(deviceId: string, phone: string): void {
    this.keys.set(deviceId, phone);
  }

  /**
   * Deactivates a key (lost device, account takeover): it no longer authenticates on its own.
   * 'unknown' for a deviceId this emulator never issued.
   */
  revoke(deviceId: string): 'revoked' | 'already' | 'unknown' {
    if (this.keys.delete(deviceId)) {
      this.revoked.add(deviceId);
      return 'revoked';
    }
    return this.revoked.has(deviceId) ? 'already' : 'unknown';
  }

  /** The number behind a proveId handed out earlier; undefined for one never issued. */
  phoneOfProveId(proveId: string): string | undefined {
    for (const [phone, id] of this.proveIds) if (id === proveId) return phone;
    return undefined;
  }

  proveIdFor(phone: string): string {
    let id = this.proveIds.get(phone);
    if (!id) {
      id = randomUUID();
      this.proveIds.set(phone, id);
    }
    return id;
  }
}
