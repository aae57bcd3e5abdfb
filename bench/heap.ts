import { readFileSync } from 'node:fs';

/**
 * Compares two heap snapshots (v8.writeHeapSnapshot): retained-by-nobody-in-particular self size
 * and count per constructor name, largest growth first. Usage: npx tsx bench/heap.ts before after [n]
 */
interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

function summarise(file: string): Map<string, { count: number; size: number }> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const out = new Map<string, { count: number; size: number }>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + iType]!]!;
    const name = type === 'object' || type === 'closure' ? `${type}:${snap.strings[snap.nodes[i + iName]!]}` : `(${type})`;
    const entry = out.get(name) ?? { count: 0, size: 0 };
    entry.count++;
    entry.size += snap.nodes[i + iSize]!;
    out.set(name, entry);
  }
  return out;
}

const [before, after, n] = process.argv.slice(2);
const a = summarise(before!);
const b = summarise(after!);
const rows = [...b.entries()].map(([name, v]) => {
  const w = a.get(name) ?? { count: 0, size: 0 };
  return { name, count: v.count - w.count, size: v.size - w.size };
});
rows.sort((x, y) => y.size - x.size);
const total = rows.reduce((t, r) => t + r.size, 0);
console.log(`growth ${(total / 2 ** 20).toFixed(1)} MiB`);
for (const r of rows.slice(0, Number(n ?? 40))) console.log(`${(r.size / 1024).toFixed(0).padStart(8)} KiB ${String(r.count).padStart(8)}  ${r.name.slice(0, 100)}`);
