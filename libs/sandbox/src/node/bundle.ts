/**
 * esbuild at both ends of the sandbox: an upload becomes one self-contained ES module (the SDK
 * inlined, nothing else importable), and the app's child runner becomes one file that the
 * permission model lets the child read from its own directory. Builds go through
 * esbuildService.ts, which restarts a dead esbuild service.
 */
import { Buffer } from "node:buffer"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import type { CodeLanguage, ValidationIssue } from "@quasar/domain"
import { SDK_SPECIFIER, sdkDirectory } from "@quasar/providers"
import { Effect } from "effect"
import type { Message, OnResolveArgs, Plugin } from "esbuild"
import { SandboxSetupError } from "../errors"
import { nestingProblem } from "../nesting"
import { BundlerDied, build } from "./esbuildService"

type Issue = typeof ValidationIssue.Type

const sdkDir = fileURLToPath(sdkDirectory)
const sdkEntry = join(sdkDir, "index.ts")

/** An esbuild message as a report issue, pointing into the upload (1-based line and column). */
const toIssue = (severity: Issue["severity"], message: Message): Issue => ({
  severity,
  message: message.text,
  ...(message.location ? { line: message.location.line, column: message.location.column + 1 } : {})
})

/**
 * Resolves `@quasar/providers/sdk` to the SDK sources (which esbuild then inlines) and refuses
 * every other import — `node:*`, packages, relative files — naming it, so that an upload runs
 * with exactly what it was validated with and reaches nothing but the SDK.
 */
const sdkOnly = (role: UploadRole): Plugin => ({
  name: "sdk-only",
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.path === SDK_SPECIFIER) return { path: sdkEntry }
      if (args.importer.startsWith(sdkDir)) return undefined
      return {
        errors: [
          {
            text: `import of "${args.path}" is not allowed: ${role} code may import only "${SDK_SPECIFIER}" (bundle anything else into the upload)`
          }
        ]
      }
    })
  }
})

const isBuildFailure = (e: unknown): e is { readonly errors: ReadonlyArray<Message> } =>
  typeof e === "object" && e !== null && Array.isArray((e as { errors?: unknown }).errors)

/** What the upload is: it names the upload's file in stack traces (`provider.ts`, `strategy.js`). */
export type UploadRole = "provider" | "strategy"

export interface Bundled {
  readonly code: string
  readonly warnings: ReadonlyArray<Issue>
}

/**
 * The upload as one ES module, or the issues that stop it (syntax errors, forbidden imports,
 * nesting deep enough to crash the bundler).
 */
export const bundleUpload = (
  source: string,
  language: CodeLanguage,
  role: UploadRole = "provider"
): Effect.Effect<Bundled, ReadonlyArray<Issue>> =>
  Effect.suspend(() => {
    const tooDeep = nestingProblem(source)
    return tooDeep === undefined
      ? Effect.void
      : Effect.fail<ReadonlyArray<Issue>>([{ severity: "error", message: tooDeep }])
  }).pipe(
    Effect.zipRight(bundle(source, language, role)),
    Effect.withSpan("sandbox.bundleUpload", { attributes: { language, role, bytes: source.length } })
  )

/** A directory that holds nothing: relative imports must fail, and they do (see sdkOnly). */
const UPLOAD_DIR = "/nonexistent-upload-dir"

/**
 * The bundle's source map, inline, so that the child's stack traces (node --enable-source-maps)
 * point into the upload. Its sources are renamed: the upload is `<role>.ts`/`<role>.js`
 * (`provider.ts`, `strategy.js`) and every other file is the SDK's, as `quasar-sdk/<file>`, so
 * no host path reaches the child.
 */
const withInlineMap = (code: string, mapText: string, uploadName: string): string => {
  const map = JSON.parse(mapText) as { sources?: ReadonlyArray<string> }
  // Sources are relative to `outfile`, which sits in the SDK's directory.
  const sources = (map.sources ?? []).map((s) => {
    const path = resolve(sdkDir, s)
    return path === join(UPLOAD_DIR, uploadName)
      ? uploadName
      : `quasar-sdk/${relative(sdkDir, path)
          .split(/[\\/]/)
          .filter((p) => p !== ".." && p !== ".")
          .join("/")}`
  })
  const cleaned = JSON.stringify({ ...map, sources, sourceRoot: undefined })
  return `${code}\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(cleaned).toString("base64")}\n`
}

const bundle = (
  source: string,
  language: CodeLanguage,
  role: UploadRole
): Effect.Effect<Bundled, ReadonlyArray<Issue>> => {
  const uploadName = `${role}.${language === "typescript" ? "ts" : "js"}`
  return Effect.tryPromise({
    try: () =>
      build(
        {
          stdin: {
            contents: source,
            loader: language === "typescript" ? "ts" : "js",
            sourcefile: uploadName,
            resolveDir: UPLOAD_DIR
          },
          bundle: true,
          format: "esm",
          platform: "neutral",
          target: "es2022",
          charset: "utf8",
          legalComments: "none",
          write: false,
          logLevel: "silent",
          // The map is attached by withInlineMap; `outfile` only names the outputs (nothing is written).
          sourcemap: "external",
          sourcesContent: false,
          outfile: join(sdkDir, `${role}.mjs`),
          plugins: [sdkOnly(role)]
        },
        "an upload"
      ),
    catch: (e): ReadonlyArray<Issue> =>
      isBuildFailure(e) && e.errors.length > 0
        ? e.errors.map((m) => toIssue("error", m))
        : [
            {
              severity: "error",
              message:
                e instanceof BundlerDied
                  ? `${e.message}: simplify the module (it is likely nested too deeply)`
                  : `bundling failed: ${e instanceof Error ? e.message : String(e)}`
            }
          ]
  }).pipe(
    Effect.tapError((issues) =>
      issues[0]?.message.startsWith("the bundler")
        ? Effect.logError("the bundler died on an upload; restarted")
        : Effect.void
    ),
    Effect.flatMap((result) => {
      const file = result.outputFiles.find((f) => f.path.endsWith(".mjs"))
      const map = result.outputFiles.find((f) => f.path.endsWith(".map"))
      return file && map
        ? Effect.succeed({
            code: withInlineMap(file.text, map.text, uploadName),
            warnings: result.warnings.map((m) => toIssue("warning", m))
          })
        : Effect.fail([{ severity: "error" as const, message: "bundling produced no output" }])
    })
  )
}

/**
 * `@quasar/domain` declares no `sideEffects`, so esbuild would keep every one of its files (and
 * Effect with them, ~1 MB to load in each child) for the few constants and format helpers a
 * runner takes from it. Marking the package's files side-effect free, the index and each file
 * one imports from another, lets tree-shaking keep only the files whose exports are used: the
 * runner's are the Effect-free ones (BarColumns.ts, timeframeLengths.ts).
 */
const domainTreeShaken: Plugin = {
  name: "domain-tree-shaken",
  setup(b) {
    const domainDirectories = new Set<string>()
    const sideEffectFree = async (args: OnResolveArgs) => {
      const resolved = await b.resolve(args.path, {
        resolveDir: args.resolveDir,
        kind: args.kind,
        importer: args.importer,
        pluginData: "inner"
      })
      return { ...resolved, sideEffects: false }
    }
    b.onResolve({ filter: /^@quasar\/domain$/ }, async (args) => {
      if (args.pluginData === "inner") return undefined
      const resolved = await sideEffectFree(args)
      if (resolved.path) domainDirectories.add(dirname(resolved.path))
      return resolved
    })
    b.onResolve({ filter: /^\./ }, (args) =>
      args.pluginData === "inner" || !domainDirectories.has(dirname(args.importer))
        ? undefined
        : sideEffectFree(args)
    )
  }
}

/** Bundles the child's program (`runnerEntry`, a source file) into `outFile`; returns its size in bytes. */
export const bundleRunner = (
  runnerEntry: string,
  outFile: string
): Effect.Effect<number, SandboxSetupError> =>
  Effect.tryPromise({
    try: async () => {
      const result = await build(
        {
          entryPoints: [runnerEntry],
          outfile: outFile,
          absWorkingDir: dirname(runnerEntry),
          bundle: true,
          format: "esm",
          platform: "node",
          target: "node20",
          legalComments: "none",
          logLevel: "silent",
          metafile: true,
          plugins: [domainTreeShaken]
        },
        "the sandbox runner"
      )
      return Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0)
    },
    catch: (e) =>
      new SandboxSetupError({
        message: `cannot bundle the sandbox runner (${e instanceof Error ? e.message : String(e)}): check that esbuild is installed`
      })
  }).pipe(Effect.withSpan("sandbox.bundleRunner"))
