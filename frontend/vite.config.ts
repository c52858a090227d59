/// <reference types="vitest/config" />
import { defineConfig, type Plugin } from 'vite';
import { build as esbuild } from 'esbuild';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { OutputBundle, OutputChunk } from 'rollup';

/**
 * Writes `<file>.br` and `<file>.gz` beside every text file of the build (Node's own zlib, at
 * the highest levels), when smaller. The server sends them with `Content-Encoding` to clients
 * that accept them (backend/api/src/spa.rs) and embeds them in the binary with the rest.
 */
function precompress(): Plugin {
  let outDir = 'dist';
  return {
    name: 'edugraph-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir;
    },
    closeBundle() {
      const walk = (dir: string): string[] =>
        readdirSync(dir).flatMap((n) => {
          const p = join(dir, n);
          return statSync(p).isDirectory() ? walk(p) : [p];
        });
      for (const file of walk(outDir)) {
        if (!/\.(js|mjs|css|html|svg|json|txt|webmanifest)$/.test(file)) continue;
        const raw = readFileSync(file);
        if (raw.length < 512) continue;
        const br = brotliCompressSync(raw, {
          params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length },
        });
        const gz = gzipSync(raw, { level: 9 });
        if (br.length < raw.length) writeFileSync(`${file}.br`, br);
        if (gz.length < raw.length) writeFileSync(`${file}.gz`, gz);
      }
    },
  };
}

/**
 * The boot script (src/boot.ts) and the map it reads (issue 18 §1). Built on its own as one
 * small classic script (1.4 KB on the wire), listed in index.html before the app, so it runs
 * while the app's JavaScript is still downloading: it preloads the chunks of the page the address shows
 * and starts that page's first API reads. The map (page module -> its chunk files, the chunk
 * and what it imports statically, minus the app's entry) goes into index.html as a JSON data
 * block, which the CSP allows (it is never run).
 */
function bootScript(): Plugin {
  let code = '';
  let fileName = '';
  let base = '/';
  return {
    name: 'edugraph-boot',
    apply: 'build',
    configResolved(config) {
      base = config.base;
    },
    async buildStart() {
      const out = await esbuild({
        entryPoints: [resolve(__dirname, 'src/boot.ts')],
        bundle: true,
        minify: true,
        format: 'iife',
        target: 'es2020',
        write: false,
        legalComments: 'none',
      });
      code = out.outputFiles[0]!.text;
      const hash = createHash('sha256').update(code).digest('base64url').slice(0, 8);
      fileName = `assets/boot-${hash}.js`;
    },
    generateBundle() {
      this.emitFile({ type: 'asset', fileName, source: code });
    },
    transformIndexHtml: {
      order: 'post',
      handler(html, ctx) {
        const map = ctx.bundle ? pageChunks(ctx.bundle, base) : {};
        // Before the app's own script and its stylesheet: the browser asks for it first, and it
        // runs as soon as it has arrived (a parser-blocking script waits for no stylesheet
        // listed after it; Chromium delays an `async` one until after the first paint). The
        // preload scanner fetches the app meanwhile. After the `<meta charset>`, which must
        // come within the first 1024 bytes.
        const tags =
          `<script type="application/json" id="edugraph-chunks">${JSON.stringify(map)}</script>\n    ` +
          `<script src="${base}${fileName}"></script>\n    `;
        const at = html.indexOf('<script type="module"');
        if (at < 0) throw new Error('edugraph-boot: index.html has no module script');
        return html.slice(0, at) + tags + html.slice(at);
      },
    },
  };
}

/** Page module (`ClassPage`, `admin/Users`) -> the files its dynamic import loads. */
function pageChunks(bundle: OutputBundle, base: string): Record<string, string[]> {
  const chunks = Object.values(bundle).filter((c): c is OutputChunk => c.type === 'chunk');
  const byFile = new Map(chunks.map((c) => [c.fileName, c]));
  const pagesDir = resolve(__dirname, 'src/pages');
  const map: Record<string, string[]> = {};
  for (const c of chunks) {
    if (!c.isDynamicEntry || !c.facadeModuleId?.startsWith(pagesDir)) continue;
    const name = relative(pagesDir, c.facadeModuleId).replace(/\.tsx?$/, '').split('\\').join('/');
    const files: string[] = [];
    const visit = (file: string) => {
      const chunk = byFile.get(file);
      if (!chunk || chunk.isEntry || files.includes(base + file)) return;
      files.push(base + file);
      chunk.imports.forEach(visit);
    };
    visit(c.fileName);
    map[name] = files;
  }
  return map;
}

// The API (`edugraph demo`, default port 8080) serves the built app itself; in development
// Vite serves the app and forwards the API and the Microsoft sign-in routes to it.
const api = process.env.EDUGRAPH_API ?? 'http://localhost:8080';

export default defineConfig({
  plugins: [bootScript(), precompress()],
  // The app is written against React's API and types and runs on Preact's compatible
  // implementation (issue 18 §1: react-dom was ~190 KB of the 305 KB every visitor downloaded
  // and ran before the first page; preact/compat is ~11 KB). TanStack Query imports `react`
  // too and gets the same.
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  resolve: {
    alias: [
      { find: /^react$/, replacement: 'preact/compat' },
      { find: /^react-dom$/, replacement: 'preact/compat' },
      { find: /^react-dom\/client$/, replacement: 'preact/compat/client' },
      { find: /^react\/jsx-(dev-)?runtime$/, replacement: 'preact/jsx-runtime' },
    ],
  },
  server: {
    proxy: {
      '/api': { target: api },
      '/auth': { target: api },
    },
  },
  build: {
    // The CSP allows only our own files: never inline anything (no data: fonts/scripts,
    // no inline module-preload polyfill).
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    rollupOptions: {
      output: {
        // Small shared chunks are merged into the chunks that use them (Rollup does so only
        // where no module then runs when it should not): on HTTP/1.1 (six connections) every
        // extra chunk of the first page queues behind the others for a round trip, for a few
        // hundred bytes each.
        experimentalMinChunkSize: 4096,
      },
      // TanStack Query's "use client" markers are for React Server Components (none here).
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
    environment: 'node',
  },
});
