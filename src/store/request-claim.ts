/** What the store keeps under a clientRequestId: written ahead of unify, so a repeat never sends a second SMS. */
export interface RequestClaim {
  /** Who started it: the API key's id, or public callers as one, hashed (flows/caller.ts ownerOf). */
  owner: string;
  /** fingerprintStart of the input. */
  input: string;
  flowId: string;
  /**
   * 'reserved': written before unify was sent, Prove's answer not stored yet; 'unknown': unify was
   * sent and no answer came back (Prove may have sent the SMS); 'started' (or absent, as written
   * before reservations existed): the flow is stored under flowId.
   */
  state?: 'reserved' | 'unknown' | 'started';
}
