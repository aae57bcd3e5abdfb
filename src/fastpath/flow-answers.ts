import { Kind, type OperationDefinitionNode } from 'graphql';
import { createLRUCache } from 'graphql-yoga';
import type { Flow } from '../flows/flow.js';

/**
 * Answers to `flow(id)` reads, made once per version of the flow and caller kind, and sent again
 * while the stored flow is unchanged. Status screens and backends poll the same flow with the
 * same document: executing it, turning three instants into ISO strings and serialising the
 * result again for every poll was a fifth of such a request's CPU.
 *
 * Never stale: every request still reads the flow from the store (FlowService.find, which applies
 * the clock, so an expiry is stored and seen), and an answer is reused only when that read has
 * the same version, state and updatedAt as the flow it was made from. The resolvers of UnifyFlow
 * depend on the flow and on the caller's kind only (public callers see a masked number and no
 * correlationId), so the kind is part of the key; the document and operation are too, and the
 * operation may have no variable but the id. Answers with errors are never kept.
 */

/** Where the one `flow` field of an operation takes its id from. */
export type FlowRead = { variable: string } | { literal: string };

/**
 * The id source when the operation is exactly one `flow(id: ...)` root field without directives
 * and has no variable other than that id; null for every other operation (they execute every time).
 */
export function flowReadOf(operation: OperationDefinitionNode): FlowRead | null {
  const [field, ...others] = operation.selectionSet.selections;
  if (others.length || field?.kind !== Kind.FIELD || field.name.value !== 'flow' || field.directives?.length) return null;
  const [argument, ...more] = field.arguments ?? [];
  if (more.length || argument?.name.value !== 'id') return null;
  const definitions = operation.variableDefinitions ?? [];
  const value = argument.value;
  if (value.kind === Kind.VARIABLE) {
    const [definition, ...rest] = definitions;
    return !rest.length && definition?.variable.name.value === value.name.value ? { variable: value.name.value } : null;
  }
  if (value.kind === Kind.STRING && definitions.length === 0) return { literal: value.value };
  return null;
}

/** The id this request reads, when it is a string (anything else executes and is answered as usual). */
export function flowIdOf(read: FlowRead, variables: Record<string, unknown> | undefined): string | undefined {
  if ('literal' in read) return read.literal;
  const id = variables?.[read.variable];
  return typeof id === 'string' ? id : undefined;
}

/** What must not have changed for an answer to be sent again. */
export const versionOf = (flow: Flow): string => `${flow.version}\0${flow.state}\0${flow.updatedAt}`;

interface Answer {
  version: string;
  body: string;
}

export class FlowAnswers {
  readonly #answers;

  constructor(max = 1_000) {
    this.#answers = createLRUCache<Answer>({ max });
  }

  /** The answer made for this key from this version of the flow, if there is one. */
  get(key: string, version: string): string | undefined {
    const answer = this.#answers.get(key);
    return answer?.version === version ? answer.body : undefined;
  }

  set(key: string, version: string, body: string): void {
    this.#answers.set(key, { version, body });
  }
}
