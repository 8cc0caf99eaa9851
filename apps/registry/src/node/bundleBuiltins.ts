/**
 * Bundles each built-in provider (several files in libs/providers) into one ES module with
 * esbuild, keeping the SDK as its single import — the same shape a user's upload has.
 */
import { resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { builtinProviders, SDK_SPECIFIER, sdkDirectory } from "@quasar/providers"
import { Effect, Layer } from "effect"
import { build } from "esbuild"
import { BuiltinSources } from "../BuiltinSources"

const sdkDir = fileURLToPath(sdkDirectory)

const bundle = (entry: URL) =>
  Effect.tryPromise({
    try: async () => {
      const result = await build({
        entryPoints: [fileURLToPath(entry)],
        bundle: true,
        format: "esm",
        platform: "neutral",
        target: "es2022",
        write: false,
        legalComments: "none",
        plugins: [
          {
            name: "sdk-external",
            setup(b) {
              // Every path into the SDK folder becomes the SDK's public specifier.
              b.onResolve({ filter: /sdk/ }, (args) => {
                if (args.path === SDK_SPECIFIER) return { path: SDK_SPECIFIER, external: true }
                const target = resolve(args.resolveDir, args.path)
                return `${target}/`.startsWith(sdkDir) ? { path: SDK_SPECIFIER, external: true } : undefined
              })
            }
          }
        ]
      })
      const file = result.outputFiles[0]
      if (!file) throw new Error("esbuild produced no output")
      return file.text
    },
    catch: (e) => `cannot bundle ${fileURLToPath(entry)}: ${e instanceof Error ? e.message : String(e)}`
  })

export const layer = Layer.succeed(BuiltinSources, {
  load: Effect.forEach(builtinProviders, (p) =>
    Effect.map(bundle(p.entry), (source) => ({ name: p.name, source }))
  )
})
