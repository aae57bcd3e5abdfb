import { connect, type Socket } from 'node:net';

/**
 * A small keep-alive HTTP/1.1 client on raw sockets: a request is a prebuilt buffer, a response
 * is read by Content-Length or chunked encoding. It costs the load generator far less than fetch
 * or node:http per request, so the bare reference server, not the client, is what saturates.
 */

export interface Response {
  status: number;
  body: string;
}

export function buildRequest(url: string, body: string | undefined, headers: Record<string, string> = {}): Buffer {
  const { host, pathname, search } = new URL(url);
  const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
  const lines = [
    `${body === undefined ? 'GET' : 'POST'} ${pathname}${search} HTTP/1.1`,
    `host: ${host}`,
    'connection: keep-alive',
    ...(body === undefined ? [] : ['content-type: application/json', `content-length: ${payload.length}`]),
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), payload]);
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

/** One keep-alive connection; requests on it are strictly sequential. */
export class Connection {
  private socket: Socket;
  private buffer: Buffer = Buffer.alloc(0);
  private waiter: { resolve: (r: Response) => void; reject: (e: Error) => void } | undefined;
  private closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
      this.drain();
    });
    const fail = (error: Error) => {
      this.closed = true;
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter?.reject(error);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  static open(url: string): Promise<Connection> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect({ host: hostname, port: Number(port) }, () => {
        socket.off('error', reject);
        resolve(new Connection(socket));
      });
      socket.once('error', reject);
    });
  }

  request(raw: Buffer): Promise<Response> {
    if (this.closed) return Promise.reject(new Error('connection closed'));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.socket.write(raw);
    });
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private drain() {
    const headerEnd = this.buffer.indexOf(CRLFCRLF);
    if (headerEnd < 0) return;
    const head = this.buffer.subarray(0, headerEnd).toString('latin1');
    const status = Number(head.slice(9, 12));
    const lengthMatch = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    const start = headerEnd + 4;
    let body: Buffer;
    let consumed: number;
    if (lengthMatch) {
      const length = Number(lengthMatch[1]);
      if (this.buffer.length < start + length) return;
      body = this.buffer.subarray(start, start + length);
      consumed = start + length;
    } else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
      const parts: Buffer[] = [];
      let at = start;
      for (;;) {
        const lineEnd = this.buffer.indexOf('\r\n', at);
        if (lineEnd < 0) return;
        const size = parseInt(this.buffer.subarray(at, lineEnd).toString('latin1'), 16);
        if (this.buffer.length < lineEnd + 2 + size + 2) return;
        if (size === 0) {
          consumed = lineEnd + 4;
          break;
        }
        parts.push(this.buffer.subarray(lineEnd + 2, lineEnd + 2 + size));
        at = lineEnd + 2 + size + 2;
      }
      body = Buffer.concat(parts);
    } else {
      body = Buffer.alloc(0);
      consumed = start;
    }
    const text = body.toString('utf8');
    this.buffer = this.buffer.subarray(consumed);
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.resolve({ status, body: text });
    if (this.buffer.length) this.drain();
  }
}

/** A pool of keep-alive connections handing requests to whichever is free. */
export class Pool {
  private idle: Connection[] = [];
  private queue: ((c: Connection) => void)[] = [];
  private all: Connection[] = [];

  private constructor(private readonly url: string) {}

  static async open(url: string, size: number): Promise<Pool> {
    const pool = new Pool(url);
    for (let i = 0; i < size; i++) {
      const c = await Connection.open(url);
      pool.all.push(c);
      pool.idle.push(c);
    }
    return pool;
  }

  async request(raw: Buffer): Promise<Response> {
    const c = this.idle.pop() ?? (await new Promise<Connection>((resolve) => this.queue.push(resolve)));
    try {
      return await c.request(raw);
    } finally {
      const next = this.queue.shift();
      if (next) next(c);
      else this.idle.push(c);
    }
  }

  async json<T>(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
    const res = await this.request(buildRequest(url, JSON.stringify(body), headers));
    return { status: res.status, body: JSON.parse(res.body) as T };
  }

  close(): void {
    for (const c of this.all) c.close();
  }
}

export interface LoadResult {
  requests: number;
  perSecond: number;
  errors: number;
  non2xx: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * Closed-loop load: `connections` keep-alive connections, each sending `raw` again as soon as the
 * previous response arrived, for `durationMs` after a `warmupMs` that is not counted.
 */
export async function load(url: string, raw: Buffer, options: { connections: number; durationMs: number; warmupMs: number }): Promise<LoadResult> {
  const connections = await Promise.all(Array.from({ length: options.connections }, () => Connection.open(url)));
  const latencies: number[] = [];
  let errors = 0;
  let non2xx = 0;
  let counting = false;
  let stopping = false;
  let measuredStart = 0;
  let measuredEnd = 0;
  const loop = async (c: Connection) => {
    while (!stopping) {
      const t0 = performance.now();
      try {
        const res = await c.request(raw);
        if (counting && !stopping) {
          latencies.push(performance.now() - t0);
          if (res.status < 200 || res.status >= 300) non2xx++;
        }
      } catch {
        if (counting) errors++;
        return;
      }
    }
  };
  const loops = connections.map(loop);
  await new Promise((r) => setTimeout(r, options.warmupMs));
  counting = true;
  measuredStart = performance.now();
  await new Promise((r) => setTimeout(r, options.durationMs));
  measuredEnd = performance.now();
  stopping = true;
  counting = false;
  await Promise.all(loops);
  for (const c of connections) c.close();
  const sorted = latencies.sort((a, b) => a - b);
  return {
    requests: sorted.length,
    perSecond: sorted.length / ((measuredEnd - measuredStart) / 1000),
    errors,
    non2xx,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
  };
}

export function percentile(sorted: readonly number[], q: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export const median = (values: readonly number[]): number => percentile([...values].sort((a, b) => a - b), 0.5);
