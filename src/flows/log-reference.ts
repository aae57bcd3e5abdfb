import { flowKey } from '../store/flow-repository.js';

/**
 * How logs name a flow: the first 10 characters of the hash its store key is made of, never the
 * id itself (a flow id is a bearer capability). `npm run flow-ref -- <id>` prints it.
 */
export const logReference = (id: string): string => flowKey(id).slice(0, 10);
