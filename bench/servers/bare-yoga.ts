import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSchema, createYoga } from 'graphql-yoga';
import { serve } from './child.js';

/** Reference: yoga with its defaults and a one-field schema, answering `{ __typename }`. */
const yoga = createYoga({
  schema: createSchema({ typeDefs: 'type Query { hello: String }', resolvers: { Query: { hello: () => 'world' } } }),
  logging: false,
});
const server = createServer(yoga);
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  serve({ url: `http://127.0.0.1:${port}` }, {}, () => new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  }));
});
