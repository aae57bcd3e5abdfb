import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { builder } from './builder.js';
import './scalars.js';
import './flow.js';
import './errors.js';
import './start.js';
import './status.js';
import './bind.js';
import './revoke.js';

export type { GraphQLContext } from './builder.js';

export const schema: GraphQLSchema = builder.toSchema({ sortSchema: true });

/** What schema.graphql must contain. */
export const printedSchema = (): string => `${printSchema(lexicographicSortSchema(schema))}\n`;
