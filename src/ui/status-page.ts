import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';

/**
 * The status page at / (src/ui/page): its TypeScript and CSS are bundled with esbuild from the repo's
 * sources on the first request (a few tens of milliseconds, once per process), so `npm start` on a
 * clean clone serves it with no build step and nothing comes from a CDN. Off in production unless
 * STATUS_PAGE=on; it never carries an API key (binding asks the person to paste one).
 */

// The page's sources stay in src/ui/page wherever this module runs from: beside it (tsx), or up
// the tree from the compiled dist/src/ui/ (`npm run build`) or from npm start's bundle in node_modules/.cache.
function pageDir(): string {
  for (let dir = new URL('./', import.meta.url); ; dir = new URL('../', dir)) {
    for (const candidate of [new URL('page/', dir), new URL('src/ui/page/', dir)]) {
      if (existsSync(new URL('main.ts', candidate))) return fileURLToPath(candidate);
    }
    if (dir.pathname === '/') return fileURLToPath(new URL('./page/', import.meta.url));
  }
}
const PAGE_DIR = pageDir();
export const STATUS_PAGE_ASSETS = '/status-page';

interface Bundle {
  html: string;
  js: string;
  css: string;
}

let bundling: Promise<Omit<Bundle, 'html'> & { template: string }> | undefined;

/** Bundles once per process; a failed build is retried on the next request. */
function bundle() {
  bundling ??= (async () => {
    const { build } = await import('esbuild');
    const result = await build({
      entryPoints: { app: `${PAGE_DIR}main.ts`, 'app-style': `${PAGE_DIR}style.css` },
      bundle: true,
      write: false,
      outdir: '/status-page',
      format: 'esm',
      target: ['es2022', 'chrome109', 'firefox115', 'safari16'],
      minify: true,
      legalComments: 'none',
      logLevel: 'silent',
    });
    const out = (suffix: string) => result.outputFiles.find((f) => f.path.endsWith(suffix))?.text ?? '';
    return { js: out('app.js'), css: out('app-style.css'), template: await readFile(`${PAGE_DIR}index.html`, 'utf8') };
  })().catch((error: unknown) => {
    bundling = undefined;
    throw error;
  });
  return bundling;
}

export interface StatusPageOptions {
  graphqlPath: string;
  /** Where the embedded emulator is mounted, if it is. */
  emulatorPath: string | undefined;
  logger: Logger;
}

export interface StatusPage {
  /** Answers the request if it is the page's; false otherwise. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
}

const HOST = /^[A-Za-z0-9.\-:[\]]+$/;

function securityHeaders(req: IncomingMessage): Record<string, string> {
  // 'self' covers same-origin WebSockets in current browsers; the explicit ws(s) origin covers older ones.
  const host = req.headers.host && HOST.test(req.headers.host) ? req.headers.host : undefined;
  const sockets = host ? ` ws://${host} wss://${host}` : '';
  return {
    'content-security-policy':
      `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'${sockets}; ` +
      "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  };
}

export function createStatusPage(options: StatusPageOptions): StatusPage {
  const config = JSON.stringify({ graphql: options.graphqlPath, emulator: options.emulatorPath ?? null }).replace(/</g, '\\u003c');

  const assets: Record<string, { type: string; body: (b: Bundle) => string }> = {
    '/': { type: 'text/html; charset=utf-8', body: (b) => b.html },
    [`${STATUS_PAGE_ASSETS}/app.js`]: { type: 'text/javascript; charset=utf-8', body: (b) => b.js },
    [`${STATUS_PAGE_ASSETS}/app.css`]: { type: 'text/css; charset=utf-8', body: (b) => b.css },
  };

  return {
    handle(req, res) {
      const path = (req.url ?? '/').split('?')[0]!;
      const asset = assets[path];
      if (!asset) return false;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return true;
      }
      bundle().then(
        ({ js, css, template }) => {
          const body = asset.body({ html: template.replace('__PAGE_CONFIG__', config), js, css });
          res.writeHead(200, { 'content-type': asset.type, 'content-length': Buffer.byteLength(body), ...securityHeaders(req) });
          res.end(req.method === 'HEAD' ? undefined : body);
        },
        (error: Error) => {
          options.logger.error({ err: { message: error.message } }, 'status page build failed');
          res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('The status page failed to build; see the log.');
        },
      );
      return true;
    },
  };
}
