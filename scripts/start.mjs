// `npm start`: the gateway from its sources with no build step, started in about a second.
// The sources are bundled once with esbuild (well under a second) into node_modules/.cache and the
// bundle is reused until a source file, the lockfile or the tsconfig changes; then it runs in this
// very process, so npm's SIGTERM or Ctrl-C reaches the gateway itself and nothing outlives it.
// Plain JavaScript on purpose: it must run before anything is compiled.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, existsSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { basename, join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const cacheDir = join(root, 'node_modules', '.cache', 'unify-gateway');

/** A hash of everything the bundle is made from. */
function fingerprint() {
  const hash = createHash('sha256');
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|mts|js|mjs|json)$/.test(entry.name)) hash.update(path).update('\0').update(readFileSync(path)).update('\0');
    }
  };
  walk(join(root, 'src'));
  for (const file of ['package-lock.json', 'tsconfig.json', 'scripts/start.mjs']) {
    if (existsSync(join(root, file))) hash.update(file).update(readFileSync(join(root, file)));
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * Drops old bundles, keeping the two newest besides the current one: a gateway still running from
 * an older checkout loads its lazy chunks from its own bundle, and a start racing this one may be
 * about to run the current bundle. Leftovers of an interrupted build go after ten minutes.
 */
function prune(current) {
  const entries = readdirSync(cacheDir)
    .filter((name) => name !== current)
    .flatMap((name) => {
      try {
        return [{ name, mtime: statSync(join(cacheDir, name)).mtimeMs }];
      } catch {
        return []; // removed meanwhile by another start
      }
    })
    .sort((a, b) => b.mtime - a.mtime);
  const stale = [
    ...entries.filter((e) => !e.name.includes('.partial')).slice(2),
    ...entries.filter((e) => e.name.includes('.partial') && Date.now() - e.mtime > 10 * 60_000),
  ];
  for (const { name } of stale) rmSync(join(cacheDir, name), { recursive: true, force: true });
}

async function bundled() {
  const dir = join(cacheDir, fingerprint());
  const main = join(dir, 'main.mjs');
  if (existsSync(main)) return main;
  const { build } = await import('esbuild');
  // Built in a private directory, then renamed: two starts at once never run a half-written bundle.
  const partial = `${dir}.${process.pid}.partial`;
  await build({
    entryPoints: { main: join(root, 'src', 'main.ts') },
    outdir: partial,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    // Modules the gateway imports only when needed (Redis, tracing, webhooks' queue) stay separate
    // chunks, so their packages are loaded only when needed, as from the sources.
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // node_modules stay where they are: resolved from the bundle's place inside node_modules.
    packages: 'external',
    sourcemap: 'linked',
    logLevel: 'error',
  });
  prune(basename(dir));
  try {
    renameSync(partial, dir);
  } catch (error) {
    // Another start renamed the same bundle into place first.
    rmSync(partial, { recursive: true, force: true });
    if (!existsSync(main)) throw error;
  }
  return main;
}

// Stack traces name the TypeScript sources.
process.setSourceMapsEnabled(true);
await import(pathToFileURL(await bundled()).href);
