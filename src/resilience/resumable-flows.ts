import type { Logger } from 'pino';
import { FlowService, type FlowServiceDeps } from '../flows/service.js';
import type { Flow } from '../flows/flow.js';
import { resumableWatch } from './resumable-watch.js';

/**
 * FlowService whose watch() survives a store outage (see resumable-watch.ts). Only the live
 * status stream changes; every other call fails fast with StoreUnavailableError while the store
 * is down, which is what a caller who can retry wants.
 */
export class ResumableFlowService extends FlowService {
  readonly #logger: Logger;

  constructor(deps: FlowServiceDeps) {
    super(deps);
    this.#logger = deps.logger;
  }

  override watch(id: string, signal?: AbortSignal): AsyncIterableIterator<Flow> {
    return resumableWatch((inner) => super.watch(id, inner), { signal, logger: this.#logger });
  }
}
