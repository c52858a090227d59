#!/usr/bin/env node
// Fails when frontend/openapi.json differs from what the backend prints, or when
// src/api/schema.ts is not what openapi-typescript generates from it: the typed client and
// the API cannot drift apart. `npm run schema:update` fixes both.
//
//   EDUGRAPH_BIN=path  use a built binary (default: `cargo run -q -p edugraph`)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const frontend = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repo = resolve(frontend, '..');
const opts = { cwd: repo, encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'inherit'] };
const printed = process.env.EDUGRAPH_BIN
  ? execFileSync(process.env.EDUGRAPH_BIN, ['openapi'], opts)
  : execFileSync('cargo', ['run', '-q', '--locked', '-p', 'edugraph', '--', 'openapi'], opts);

let failed = false;
if (printed.trim() !== readFileSync(join(frontend, 'openapi.json'), 'utf8').trim()) {
  console.error('frontend/openapi.json differs from `edugraph openapi`: the API changed.');
  failed = true;
}
const tmp = mkdtempSync(join(tmpdir(), 'edugraph-schema-'));
try {
  const out = join(tmp, 'schema.ts');
  execFileSync(join(frontend, 'node_modules', '.bin', 'openapi-typescript'), ['openapi.json', '-o', out], {
    cwd: frontend,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (readFileSync(out, 'utf8') !== readFileSync(join(frontend, 'src', 'api', 'schema.ts'), 'utf8')) {
    console.error('frontend/src/api/schema.ts is not generated from frontend/openapi.json.');
    failed = true;
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
if (failed) {
  console.error('Run `npm run schema:update` in frontend/ (then fix any type errors it reveals) and commit.');
  process.exit(1);
}
console.log('openapi.json and src/api/schema.ts match the API.');
