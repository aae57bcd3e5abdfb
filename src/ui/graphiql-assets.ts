import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { GraphiQLOptions } from 'graphql-yoga';

/**
 * GraphiQL as separate, compressed, cacheable assets instead of yoga's one 9 MB page with
 * everything inlined: a small HTML page, then the script, styles and editor workers of the installed
 * @graphql-yoga/render-graphiql (its public `graphiql` export; no CDN) under
 * /graphiql-assets/<content hash>/, each brotli- or gzip-compressed once per process and sent with
 * an ETag and a year-long immutable Cache-Control. The package is loaded on the first GraphiQL
 * request: production, where GraphiQL is off, never loads it.
 */

export const GRAPHIQL_ASSETS = '/graphiql-assets';

type Encoding = 'br' | 'gzip' | 'identity';

interface Asset {
  type: string;
  body: Buffer;
  compressed: Map<Encoding, Promise<Buffer>>;
}

interface Bundle {
  version: string;
  assets: Map<string, Asset>;
}

let loading: Promise<Bundle> | undefined;

/**
 * Runs before the GraphiQL bundle: Monaco asks for its workers by label; they are assets too
 * (yoga's page made blob: URLs of inlined copies).
 */
const monacoEnvironment = (base: string) =>
  `self.MonacoEnvironment={globalAPI:false,getWorkerUrl:function(_id,label){return ${JSON.stringify(base)}+({json:'json.worker.js',graphql:'graphql.worker.js'}[label]||'editor.worker.js')}};\n`;

/**
 * Runs after it: the options come from the page (a JSON script element, no inline script), and the
 * walkthrough's curl lines get this page's own origin instead of a hard-coded one.
 */
const START = `(function(){var o=JSON.parse(document.getElementById('graphiql-options').textContent);
var fill=function(t){return typeof t==='string'?t.split('__GATEWAY_ORIGIN__').join(location.origin):t};
o.defaultQuery=fill(o.defaultQuery);if(o.defaultTabs)o.defaultTabs=o.defaultTabs.map(function(t){return Object.assign({},t,{query:fill(t.query)})});
YogaGraphiQL.renderYogaGraphiQL(document.getElementById('root'),o);})();\n`;

function load(): Promise<Bundle> {
  loading ??= import('@graphql-yoga/render-graphiql/graphiql').then((g) => {
    const version = createHash('sha256').update(g.js).update(g.css).update(g.graphqlWorker).update(g.jsonWorker)
      .update(g.editorWorkerService).update(START).digest('base64url').slice(0, 12);
    const base = `${GRAPHIQL_ASSETS}/${version}/`;
    const asset = (type: string, body: string | Buffer): Asset => ({
      type,
      body: typeof body === 'string' ? Buffer.from(body) : body,
      compressed: new Map(),
    });
    const favicon = /^data:([^;,]+);base64,(.*)$/s.exec(g.favicon);
    const assets = new Map<string, Asset>([
      [`${base}graphiql.js`, asset('text/javascript; charset=utf-8', monacoEnvironment(base) + g.js + '\n' + START)],
      [`${base}graphiql.css`, asset('text/css; charset=utf-8', g.css)],
      [`${base}editor.worker.js`, asset('text/javascript; charset=utf-8', g.editorWorkerService)],
      [`${base}json.worker.js`, asset('text/javascript; charset=utf-8', g.jsonWorker)],
      [`${base}graphql.worker.js`, asset('text/javascript; charset=utf-8', g.graphqlWorker)],
      ...(favicon ? [[`${base}favicon.ico`, asset(favicon[1]!, Buffer.from(favicon[2]!, 'base64'))] as const] : []),
    ]);
    return { version, assets };
  });
  return loading;
}

const brotli = promisify(brotliCompress);
const gzipped = promisify(gzip);

/** Compressed once per asset and encoding; quality 5 keeps the first request under a second. */
function encoded(asset: Asset, encoding: Encoding): Promise<Buffer> {
  if (encoding === 'identity') return Promise.resolve(asset.body);
  let body = asset.compressed.get(encoding);
  if (!body) {
    body =
      encoding === 'br'
        ? brotli(asset.body, { params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_SIZE_HINT]: asset.body.length } })
        : gzipped(asset.body, { level: 6 });
    asset.compressed.set(encoding, body);
  }
  return body;
}

function negotiate(header: string | undefined): Encoding {
  const accepted = new Set((header ?? '').split(',').map((part) => part.split(';')[0]!.trim().toLowerCase()));
  return accepted.has('br') ? 'br' : accepted.has('gzip') ? 'gzip' : 'identity';
}

const escapeJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');
const escapeHtml = (text: string) => text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Loads the bundle and compresses every asset, off the request path: `npm start` calls it once it
 * listens, so the first GraphiQL page a person opens is served at once (loading the package and
 * compressing take a second or two of CPU).
 */
export async function prepareGraphiQLAssets(): Promise<void> {
  const { assets } = await load();
  await Promise.all([...assets.values()].flatMap((asset) => [encoded(asset, 'br'), encoded(asset, 'gzip')]));
}

/** The page yoga serves at /graphql to a browser: a few kilobytes that name the assets. */
export async function renderGraphiQLPage(options: GraphiQLOptions): Promise<string> {
  const { version, assets } = await load();
  const base = `${GRAPHIQL_ASSETS}/${version}/`;
  // The browser asks for these next: start compressing them now.
  for (const asset of assets.values()) void encoded(asset, 'br');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(options.title ?? 'GraphiQL')}</title>
<link rel="icon" href="${base}favicon.ico">
<link rel="stylesheet" href="${base}graphiql.css">
<script defer src="${base}graphiql.js"></script>
</head>
<body id="body" class="no-focus-outline">
<noscript>You need to enable JavaScript to run GraphiQL.</noscript>
<div id="root"><p style="font:16px system-ui,sans-serif;margin:2rem;color:#555">Loading GraphiQL…</p></div>
<script type="application/json" id="graphiql-options">${escapeJson(options)}</script>
</body>
</html>
`;
}

/** Serves /graphiql-assets/<version>/<name>; false for any other path. */
export function handleGraphiQLAsset(req: IncomingMessage, res: ServerResponse): boolean {
  const path = (req.url ?? '/').split('?')[0]!;
  if (!path.startsWith(`${GRAPHIQL_ASSETS}/`)) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return true;
  }
  void load()
    .then(async ({ assets }) => {
      const asset = assets.get(path);
      if (!asset) {
        // An old version's URL (the gateway was upgraded) or a made-up one.
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end('Not found');
        return;
      }
      const encoding = negotiate(req.headers['accept-encoding'] as string | undefined);
      const etag = `"${path.split('/')[2]}-${encoding}"`;
      const headers: Record<string, string> = {
        'content-type': asset.type,
        'cache-control': 'public, max-age=31536000, immutable',
        etag,
        vary: 'accept-encoding',
        'x-content-type-options': 'nosniff',
      };
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, headers).end();
        return;
      }
      const body = await encoded(asset, encoding);
      if (encoding !== 'identity') headers['content-encoding'] = encoding;
      headers['content-length'] = String(body.length);
      res.writeHead(200, headers).end(req.method === 'HEAD' ? undefined : body);
    })
    .catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('GraphiQL assets could not be prepared');
    });
  return true;
}
