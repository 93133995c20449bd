// Prints the minified and gzipped size of each browser entry's bundle (esbuild, platform=browser,
// from source), with xstate included and with it left to the client (a peer dependency), and the
// size of libolm's wasm, which ./libolm fetches at run time:
//   npm run size
// One line each: `size: entry=<name> xstate=<included|external> min=<bytes> gzip=<bytes>`.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { browserEntries, bundleForBrowser, gzipBytes } from "../test/package/browserBundle.js";

for (const [name, entry] of Object.entries(browserEntries())) {
  for (const xstate of ["included", "external"] as const) {
    const bundle = await bundleForBrowser(entry, {
      minify: true,
      ...(xstate === "external" ? { external: ["xstate"] } : {}),
    });
    const min = Buffer.byteLength(bundle.code);
    console.log(`size: entry=${name} xstate=${xstate} min=${min} gzip=${gzipBytes(bundle.code)}`);
  }
}
const wasm = readFileSync(createRequire(import.meta.url).resolve("@matrix-org/olm/olm.wasm"));
console.log(`size: entry=libolm-wasm min=${wasm.length} gzip=${gzipBytes(wasm)}`);
