import { tracingChannel, type TracingChannel } from 'node:diagnostics_channel';
import { context, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';

/** What ioredis and node-redis (under @keyv/redis) publish for each command: their documented tracing channels. */
interface CommandMessage {
  command?: string;
  serverAddress?: string;
  serverPort?: number;
  error?: unknown;
}

const CHANNELS = [
  { name: 'ioredis:command', library: 'ioredis' },
  { name: 'node-redis:command', library: 'node-redis' },
];

/**
 * A CLIENT span for each Redis command run inside a traced operation, from the tracing channels
 * both Redis clients publish (ioredis 5.10+, node-redis 5.12+): no patching of either library.
 * Only the command's name and the server: never its arguments (keys are hashes of flow ids and
 * numbers, values are flows). Commands outside any sampled span (pub/sub, lock polling, health)
 * make no span of their own. Returns the unsubscribe.
 */
export function traceRedisCommands(tracer: Tracer): () => void {
  const spans = new WeakMap<object, Span>();
  const subscriptions = CHANNELS.map(({ name, library }) => {
    const channel = tracingChannel(name) as TracingChannel<unknown, CommandMessage>;
    const finish = (message: CommandMessage) => {
      const span = spans.get(message);
      if (!span) return;
      spans.delete(message);
      if (message.error !== undefined) {
        span.setAttribute('error.type', message.error instanceof Error ? message.error.name : 'error');
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    };
    const handlers = {
      start(message: CommandMessage) {
        if (!trace.getSpan(context.active())?.isRecording()) return;
        const command = (message.command ?? 'command').toUpperCase();
        spans.set(
          message,
          tracer.startSpan(`redis ${command}`, {
            kind: SpanKind.CLIENT,
            attributes: {
              'db.system.name': 'redis',
              'db.operation.name': command,
              'redis.client': library,
              ...(message.serverAddress && { 'server.address': message.serverAddress }),
              ...(message.serverPort && { 'server.port': message.serverPort }),
            },
          }),
        );
      },
      // A command that threw before its promise existed ends at `end` with an error.
      end: (message: CommandMessage) => message.error !== undefined && finish(message),
      asyncStart: () => {},
      asyncEnd: finish,
      error: () => {},
    };
    channel.subscribe(handlers);
    return () => channel.unsubscribe(handlers);
  });
  return () => subscriptions.forEach((unsubscribe) => unsubscribe());
}
