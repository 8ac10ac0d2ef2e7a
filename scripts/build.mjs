#!/usr/bin/env node
// `npm run build`: compiles src/ to dist/ with tsc (tsconfig.build.json) and
// copies every file the runtime reads that is not TypeScript (the trusted
// documents manifest, src/client/generated/persisted-documents.json, and any
// other non-.ts file under src/) to the same place under dist/.
//
//   node scripts/build.mjs               build (dist/ is replaced)
//   node scripts/build.mjs --if-needed   only when dist/ is missing or older than a source (npm start's prestart)
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const out = join(root, 'dist');
const stamp = join(out, '.build-stamp');

/** Every file under `dir`, recursively. */
function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? files(path) : [path];
  });
}

const inputs = () => [...files(join(root, 'src')), join(root, 'tsconfig.json'), join(root, 'tsconfig.build.json'), join(root, 'package-lock.json')];

if (args.includes('--if-needed') && existsSync(stamp)) {
  const built = statSync(stamp).mtimeMs;
  if (inputs().every((file) => statSync(file).mtimeMs <= built)) process.exit(0);
}

let tsc;
try {
  tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
} catch {
  console.error('npm run build needs the devDependencies (typescript): run `npm ci` (not --omit=dev) before building.');
  process.exit(1);
}

const started = Date.now();
rmSync(out, { recursive: true, force: true });
const compiled = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', out], { stdio: 'inherit' });
if (compiled.status !== 0) process.exit(compiled.status ?? 1);

let copied = 0;
for (const file of files(join(root, 'src'))) {
  if (file.endsWith('.ts')) continue;
  const target = join(out, relative(join(root, 'src'), file));
  mkdirSync(dirname(target), { recursive: true });
  cpSync(file, target);
  copied += 1;
}
writeFileSync(stamp, `${new Date().toISOString()}\n`);
console.error(`built dist/ in ${Date.now() - started} ms (${copied} runtime file${copied === 1 ? '' : 's'} copied)`);
