import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real OTLP/HTTP trace receiver for tests: an HTTP server on a free port that accepts what an
 * OpenTelemetry exporter POSTs to /v1/traces, in http/json or http/protobuf, and decodes it into
 * plain spans. The protobuf reading is OTLP's trace schema (opentelemetry-proto, trace/v1) read
 * off the wire format: only the fields the tests look at.
 */

export interface ReceivedSpan {
  serviceName: string | undefined;
  scope: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  events: { name: string; attributes: Record<string, unknown> }[];
  status: { code: number; message?: string };
}

export interface OtlpReceiver {
  /** The base endpoint (OTEL_EXPORTER_OTLP_ENDPOINT). */
  url: string;
  spans: ReceivedSpan[];
  /** Every request body as received, for scanning. */
  bodies: Buffer[];
  contentTypes: string[];
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const bodies: Buffer[] = [];
  const contentTypes: string[] = [];
  const server = createServer(async (req, res) => {
    const body = await readAll(req);
    if (req.method !== 'POST' || req.url !== '/v1/traces') {
      res.writeHead(404).end();
      return;
    }
    const type = req.headers['content-type'] ?? '';
    bodies.push(body);
    contentTypes.push(type);
    try {
      spans.push(...(type.startsWith('application/json') ? fromJson(JSON.parse(body.toString('utf8'))) : fromProtobuf(body)));
    } catch (error) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(String(error));
      return;
    }
    // An empty ExportTraceServiceResponse: both encodings accept an empty body for it.
    res.writeHead(200, { 'content-type': type.startsWith('application/json') ? 'application/json' : 'application/x-protobuf' });
    res.end(type.startsWith('application/json') ? '{}' : undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    bodies,
    contentTypes,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const readAll = (req: IncomingMessage) =>
  new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks))).on('error', reject);
  });

// ---- OTLP/JSON ----

type JsonValue = { stringValue?: string; boolValue?: boolean; intValue?: string | number; doubleValue?: number; arrayValue?: { values?: JsonValue[] } };
type JsonKeyValue = { key: string; value: JsonValue };

function jsonValue(v: JsonValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(jsonValue);
  return undefined;
}
const jsonAttributes = (kvs: JsonKeyValue[] = []) => Object.fromEntries(kvs.map((kv) => [kv.key, jsonValue(kv.value)]));

function fromJson(request: any): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of request.resourceSpans ?? []) {
    const serviceName = jsonAttributes(rs.resource?.attributes)['service.name'] as string | undefined;
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          serviceName,
          scope: ss.scope?.name ?? '',
          traceId: s.traceId ?? '',
          spanId: s.spanId ?? '',
          parentSpanId: s.parentSpanId ?? '',
          traceState: s.traceState ?? '',
          name: s.name,
          kind: s.kind ?? 0,
          attributes: jsonAttributes(s.attributes),
          events: (s.events ?? []).map((e: any) => ({ name: e.name, attributes: jsonAttributes(e.attributes) })),
          status: { code: s.status?.code ?? 0, ...(s.status?.message && { message: s.status.message }) },
        });
      }
    }
  }
  return out;
}

// ---- OTLP/protobuf: the wire format, field by field ----

type Field = { no: number; wire: number; value: bigint | Buffer };

function* fields(buf: Buffer): Generator<Field> {
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const byte = buf[at++];
      if (byte === undefined) throw new Error('truncated varint');
      result |= BigInt(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return result;
    }
  };
  while (at < buf.length) {
    const tag = Number(varint());
    const no = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0) yield { no, wire, value: varint() };
    else if (wire === 1) (yield { no, wire, value: buf.readBigUInt64LE(at) }, (at += 8));
    else if (wire === 5) (yield { no, wire, value: BigInt(buf.readUInt32LE(at)) }, (at += 4));
    else if (wire === 2) {
      const length = Number(varint());
      yield { no, wire, value: buf.subarray(at, at + length) };
      at += length;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
}

const bytesOf = (f: Field) => f.value as Buffer;
const textOf = (f: Field) => bytesOf(f).toString('utf8');

function anyValue(buf: Buffer): unknown {
  for (const f of fields(buf)) {
    if (f.no === 1) return textOf(f);
    if (f.no === 2) return f.value === 1n;
    if (f.no === 3) return Number(BigInt.asIntN(64, f.value as bigint));
    if (f.no === 4) return Buffer.from(new BigUint64Array([f.value as bigint]).buffer).readDoubleLE(0);
    if (f.no === 5) return [...fields(bytesOf(f))].filter((v) => v.no === 1).map((v) => anyValue(bytesOf(v)));
  }
  return undefined;
}

function keyValue(buf: Buffer): [string, unknown] {
  let key = '';
  let value: unknown;
  for (const f of fields(buf)) {
    if (f.no === 1) key = textOf(f);
    if (f.no === 2) value = anyValue(bytesOf(f));
  }
  return [key, value];
}

function span(buf: Buffer, serviceName: string | undefined, scope: string): ReceivedSpan {
  const s: ReceivedSpan = { serviceName, scope, traceId: '', spanId: '', parentSpanId: '', traceState: '', name: '', kind: 0, attributes: {}, events: [], status: { code: 0 } };
  for (const f of fields(buf)) {
    if (f.no === 1) s.traceId = bytesOf(f).toString('hex');
    else if (f.no === 2) s.spanId = bytesOf(f).toString('hex');
    else if (f.no === 3) s.traceState = textOf(f);
    else if (f.no === 4) s.parentSpanId = bytesOf(f).toString('hex');
    else if (f.no === 5) s.name = textOf(f);
    else if (f.no === 6) s.kind = Number(f.value);
    else if (f.no === 9) {
      const [k, v] = keyValue(bytesOf(f));
      s.attributes[k] = v;
    } else if (f.no === 11) {
      const event = { name: '', attributes: {} as Record<string, unknown> };
      for (const e of fields(bytesOf(f))) {
        if (e.no === 2) event.name = textOf(e);
        if (e.no === 3) {
          const [k, v] = keyValue(bytesOf(e));
          event.attributes[k] = v;
        }
      }
      s.events.push(event);
    } else if (f.no === 15) {
      for (const st of fields(bytesOf(f))) {
        if (st.no === 2) s.status.message = textOf(st);
        if (st.no === 3) s.status.code = Number(st.value);
      }
    }
  }
  return s;
}

function fromProtobuf(body: Buffer): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of fields(body)) {
    if (rs.no !== 1) continue;
    let serviceName: string | undefined;
    const scopes: Buffer[] = [];
    for (const f of fields(bytesOf(rs))) {
      if (f.no === 1) {
        for (const attr of fields(bytesOf(f))) {
          if (attr.no !== 1) continue;
          const [k, v] = keyValue(bytesOf(attr));
          if (k === 'service.name') serviceName = v as string;
        }
      }
      if (f.no === 2) scopes.push(bytesOf(f));
    }
    for (const ss of scopes) {
      let scope = '';
      for (const f of fields(ss)) {
        if (f.no === 1) for (const sf of fields(bytesOf(f))) if (sf.no === 1) scope = textOf(sf);
      }
      for (const f of fields(ss)) if (f.no === 2) out.push(span(bytesOf(f), serviceName, scope));
    }
  }
  return out;
}
