import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { builder } from './builder.js';
import './errors.js';
import './enums.js';
import './inputs.js';
import './estimate.js';
import './job.js';
import './event.js';
import './metric.js';
import './model.js';
import './deployment.js';
import './auth.js';

export const schema: GraphQLSchema = builder.toSchema();

/** Prints the SDL committed as schema/schema.graphql, sorted so diffs stay small. */
export function printSortedSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
