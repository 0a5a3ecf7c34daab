// The browser bundle: one minified ESM file, for the demo page and the size report
// (bench/src/client-size.ts). The Node-only entry (./node) is not in it.
import { build } from 'esbuild'

await build({
  entryPoints: [new URL('../src/index.ts', import.meta.url).pathname],
  outfile: new URL('../dist/authcenter-client.min.js', import.meta.url).pathname,
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  platform: 'browser',
  legalComments: 'none',
  logLevel: 'warning'
})
