/**
 * Bundles Registry, DataHub and Trader into `dist/registry.mjs`, `dist/datahub.mjs` and
 * `dist/trader.mjs` for production
 * (Docker, benchmarks): plain `node` runs them without tsx, and only the code they use is
 * loaded, which roughly halves a service's resident memory.
 *
 * Some modules find files next to themselves through `import.meta.url` (the sandbox runner,
 * the type-check worker, the provider SDK sources). A bundle would give them all the bundle's
 * own URL, so each of our source files keeps its original URL instead; the sources stay in the
 * image beside `dist/`.
 */
import { readFile } from "node:fs/promises"
import { pathToFileURL } from "node:url"
import { build, type Plugin } from "esbuild"

const keepModuleUrls: Plugin = {
  name: "keep-module-urls",
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (args.path.includes("/node_modules/")) return undefined
      const text = await readFile(args.path, "utf8")
      if (!text.includes("import.meta.url")) return undefined
      return {
        contents: text.replaceAll("import.meta.url", JSON.stringify(pathToFileURL(args.path).href)),
        loader: "ts"
      }
    })
  }
}

await build({
  entryPoints: {
    registry: "apps/registry/src/main.ts",
    datahub: "apps/datahub/src/main.ts",
    trader: "apps/trader/src/main.ts"
  },
  outdir: "dist",
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  logLevel: "warning",
  // Native binaries, WASM assets and optional native add-ons stay in node_modules.
  external: ["esbuild", "typescript", "@electric-sql/pglite", "pg-native", "bufferutil", "utf-8-validate"],
  // CommonJS dependencies bundled into ESM still call require().
  banner: {
    js: "import { createRequire as __quasarRequire } from 'node:module'; const require = __quasarRequire(import.meta.url);"
  },
  plugins: [keepModuleUrls]
})
process.stdout.write("built dist/registry.mjs, dist/datahub.mjs and dist/trader.mjs\n")
