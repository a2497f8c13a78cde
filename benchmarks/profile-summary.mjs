/**
 * Summarises the gateway's CPU profiles (`npm run profile` writes them to results/profiles/):
 * self time per function and per package/source folder, highest first.
 * Usage: node profile-summary.mjs [file.cpuprofile ...]   (default: every profile in results/profiles)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = new URL('./results/profiles/', import.meta.url).pathname;
const files =
  process.argv.slice(2).length > 0
    ? process.argv.slice(2)
    : readdirSync(dir)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(dir, f));

function where(url) {
  if (!url) return '(native/vm)';
  const path = url.replace(/^file:\/\//, '');
  const pkg = path.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (pkg) return pkg[1];
  const dist = path.match(/\/dist\/([^/]+)\//);
  if (dist) return `src/${dist[1]}`;
  if (path.startsWith('node:')) return path;
  return path.split('/').slice(-2).join('/');
}

const IDLE = new Set(['(idle)', '(program)']);

/** Where CPU goes, in the terms of the gateway's design. */
function category(place, fn) {
  if (fn === '(garbage collector)') return 'garbage collection';
  if (['kysely', 'better-sqlite3', 'src/ledger'].includes(place)) return 'ledger: Kysely + better-sqlite3 + src/ledger';
  if (
    [
      'src/gateway',
      'src/providers',
      'src/usage',
      'src/pricing',
      'src/metrics',
      'src/http',
      'src/governance',
      'prom-client',
      'pino',
      'gpt-tokenizer',
      '@pydantic/genai-prices',
    ].includes(place) ||
    place === 'dist/server.js'
  )
    return 'metering: gateway, providers, pricing, metrics';
  if (
    place === 'undici' ||
    place.startsWith('node:') ||
    fn === 'writev' ||
    fn.startsWith('writeUtf8') ||
    fn === 'writeBuffer'
  )
    return 'HTTP in/out: node:http, streams, undici';
  return 'other (VM, native, startup)';
}

function label(f) {
  return `${f.functionName || '(anonymous)'} ${f.url ? `${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}` : ''}`.trim();
}

for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

  const byFunction = new Map();
  const byPlace = new Map();
  const byCategory = new Map();
  const inclusive = new Map();
  let busy = 0;
  for (const [id, micros] of self) {
    const { callFrame: f } = nodes.get(id);
    if (IDLE.has(f.functionName)) continue;
    busy += micros;
    byFunction.set(label(f), (byFunction.get(label(f)) ?? 0) + micros);
    byPlace.set(where(f.url), (byPlace.get(where(f.url)) ?? 0) + micros);
    const cat = category(where(f.url), f.functionName);
    byCategory.set(cat, (byCategory.get(cat) ?? 0) + micros);
    // Inclusive: every distinct function on this sample's stack gets its time once.
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const key = label(nodes.get(at).callFrame);
      if (!seen.has(key)) inclusive.set(key, (inclusive.get(key) ?? 0) + micros);
      seen.add(key);
    }
  }
  const top = (map, n) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, micros]) => `  ${((micros / busy) * 100).toFixed(1).padStart(5)}%  ${name}`)
      .join('\n');
  console.log(`\n${file} — ${(busy / 1e6).toFixed(1)} s of CPU sampled (idle excluded; % of that)`);
  console.log(`self time by category:\n${top(byCategory, 6)}`);
  console.log(`self time by package / source folder:\n${top(byPlace, 15)}`);
  console.log(`self time by function:\n${top(byFunction, 30)}`);
  console.log(`inclusive time by function:\n${top(inclusive, 45)}`);
}
