/**
 * Builds the shipped program: one bundle per entry point in dist/ (the CLI and the scan thread,
 * and the replicator Lambda in dist/lambda/),
 * with shared code in chunks beside them. Bundling matters for speed, not size: loading the AWS
 * SDK as hundreds of separate modules took about a third of a short backup's CPU time.
 *
 *   npm run build
 */
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';

await rm('dist', { recursive: true, force: true });
await build({
  entryPoints: {
    twinvault: 'src/cli/main.ts',
    // parallel-scan.ts starts it as ./scan-worker.js beside itself: everything lands in one folder.
    'scan-worker': 'src/backup/scan/scan-worker.ts',
  },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunk-[hash]',
  // A native module: it loads its platform's prebuilt binary from node_modules at run time.
  external: ['@parcel/watcher'],
  // jsonc-parser's CommonJS build loads its parts with a require() bundlers cannot follow.
  mainFields: ['module', 'main'],
  // Bundled CommonJS code (the AWS SDK's) calls require() for Node's own modules.
  banner: {
    js: "import { createRequire as __twinvaultRequire } from 'node:module';\nconst require = __twinvaultRequire(import.meta.url);",
  },
  sourcemap: 'linked',
  logLevel: 'warning',
});

// The replicator Lambda: one self-contained file (the Lambda Node.js runtime loads
// dist/lambda/replicate.mjs and calls its `handler`), with the AWS SDK it was tested with inside.
await build({
  entryPoints: { replicate: 'src/lambda/replicate-handler.ts' },
  outdir: 'dist/lambda',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  mainFields: ['module', 'main'],
  banner: {
    js: "import { createRequire as __twinvaultRequire } from 'node:module';\nconst require = __twinvaultRequire(import.meta.url);",
  },
  sourcemap: 'linked',
  logLevel: 'warning',
});
