/**
 * Bundles each built-in provider and broker (several files in libs/providers) into one ES module with
 * esbuild, keeping the SDK as its single import — the same shape a user's upload has.
 */
import { resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { build } from "esbuild"
import {
  type BuiltinSource,
  builtinBrokers,
  builtinProviders,
  SDK_SPECIFIER,
  sdkDirectory
} from "../builtins"

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

/** Every built-in provider and broker, bundled (the Registry registers them; tests run them). */
export const bundleBuiltins: Effect.Effect<ReadonlyArray<BuiltinSource>, string> = Effect.forEach(
  [
    ...builtinProviders.map((p) => ({ ...p, kind: "provider" as const })),
    ...builtinBrokers.map((b) => ({ ...b, kind: "broker" as const }))
  ],
  (b) => Effect.map(bundle(b.entry), (source) => ({ name: b.name, kind: b.kind, source }))
)
