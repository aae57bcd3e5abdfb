import { Webhook } from 'standardwebhooks';

/**
 * Standard Webhooks signatures through the reference library (`standardwebhooks`): `webhook-id`,
 * `webhook-timestamp` (the time of this attempt, so a receiver's freshness check holds on a retry a
 * day later) and `webhook-signature`, one `v1,<base64>` per secret, space-separated, so a receiver
 * holding either the old or the new secret accepts during a rotation.
 */

export type SignatureHeaders = Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string>;

export type Signer = (id: string, body: string, at: Date) => SignatureHeaders;

export function createSigner(secrets: readonly string[]): Signer {
  if (!secrets.length) throw new Error('a signer needs at least one secret');
  const keys = secrets.map((secret) => new Webhook(secret));
  return (id, body, at) => ({
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': keys.map((key) => key.sign(id, at, body)).join(' '),
  });
}
