import type { FlowState, PageFlowFragment, PageStatusQuery } from './generated/graphql.js';

/** What the page knows: its configuration and the flow it shows. */

export interface PageConfig {
  graphql: string;
  /** Path of the embedded emulator, or null when the gateway talks to Prove itself. */
  emulator: string | null;
}

export type StatusResult = PageStatusQuery['unifyStatus'];

export interface Current {
  flow: PageFlowFragment;
  authToken: string;
  phoneNumber: string;
  rebind: boolean;
  /** A sandbox number that passes with no device step (2001004018): there is nothing to play. */
  instantPass: boolean;
}

export const config = JSON.parse(document.getElementById('page-config')!.textContent!) as PageConfig;

/** The flow on show (undefined before the first start). */
export const page: { current: Current | undefined } = { current: undefined };

export const TERMINAL: readonly FlowState[] = ['VERIFIED', 'BOUND', 'FAILED', 'EXPIRED'];
