import { GraphQLError, Kind } from 'graphql';
import { builder } from './builder.js';

/**
 * The texts of recent instants. Flows are read far more often than they change (status screens
 * and backends poll them), so the same few instants are written out again and again; a text is
 * a pure function of its number, so keeping them needs no invalidation, only a bound.
 */
const isoTexts = new Map<number, string>();
const MAX_ISO_TEXTS = 4096;

const isoText = (value: unknown): string => {
  if (typeof value !== 'number') return new Date(value as string | Date).toISOString();
  let text = isoTexts.get(value);
  if (text === undefined) {
    if (isoTexts.size >= MAX_ISO_TEXTS) isoTexts.clear();
    isoTexts.set(value, (text = new Date(value).toISOString()));
  }
  return text;
};

/** ISO-8601 instants; the domain keeps epoch milliseconds. */
export const DateTime = builder.scalarType('DateTime', {
  description: 'An instant, as an ISO-8601 string in UTC',
  serialize: isoText,
  parseValue: (value) => {
    const date = typeof value === 'string' ? new Date(value) : undefined;
    if (!date || Number.isNaN(date.getTime())) throw new GraphQLError('DateTime must be an ISO-8601 string');
    return date;
  },
  parseLiteral: (ast) => {
    const date = ast.kind === Kind.STRING ? new Date(ast.value) : undefined;
    if (!date || Number.isNaN(date.getTime())) throw new GraphQLError('DateTime must be an ISO-8601 string');
    return date;
  },
});
