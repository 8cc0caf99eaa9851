/**
 * Type-checks a TypeScript upload against the SDK's own types with the compiler API: an
 * in-memory host (the upload never touches the disk), `strict`, and `@quasar/providers/sdk`
 * mapped to the SDK sources through `paths`. The lib and SDK files are parsed once and kept:
 * the first check costs seconds (lib.dom.d.ts alone is ~1 MB), later ones a few hundred ms.
 */
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import type { ValidationIssue } from "@quasar/domain"
import { SDK_SPECIFIER, sdkDirectory } from "@quasar/providers"
import { Effect } from "effect"
import type ts from "typescript"

type Issue = typeof ValidationIssue.Type

const UPLOAD = "/upload/provider.ts"
/** A report with hundreds of errors helps nobody; the first ones usually explain the rest. */
const MAX_ISSUES = 20

// Loaded on first use: most DataHub processes never check TypeScript and need not pay for it.
let compiler: Promise<typeof ts> | undefined
const loadCompiler = () => {
  compiler ??= import("typescript").then((m) => m.default)
  return compiler
}

const cached = new Map<string, ts.SourceFile>()
let previous: ts.Program | undefined

const optionsFor = (t: typeof ts): ts.CompilerOptions => ({
  strict: true,
  noEmit: true,
  target: t.ScriptTarget.ES2022,
  module: t.ModuleKind.ESNext,
  moduleResolution: t.ModuleResolutionKind.Bundler,
  // The SDK's types use fetch's Request/Response, which live in the DOM lib.
  lib: ["lib.es2023.d.ts", "lib.dom.d.ts", "lib.dom.asynciterable.d.ts"],
  types: [],
  skipLibCheck: true,
  paths: { [SDK_SPECIFIER]: [join(fileURLToPath(sdkDirectory), "index.ts")] }
})

const hostFor = (t: typeof ts, options: ts.CompilerOptions, source: string): ts.CompilerHost => {
  const libDir = dirname(t.getDefaultLibFilePath(options))
  return {
    getSourceFile: (fileName, languageVersion) => {
      if (fileName === UPLOAD) return t.createSourceFile(fileName, source, languageVersion, true)
      const hit = cached.get(fileName)
      if (hit) return hit
      const text = t.sys.readFile(fileName)
      if (text === undefined) return undefined
      const file = t.createSourceFile(fileName, text, languageVersion, true)
      cached.set(fileName, file)
      return file
    },
    getDefaultLibFileName: (o) => join(libDir, t.getDefaultLibFileName(o)),
    getDefaultLibLocation: () => libDir,
    writeFile: () => undefined,
    getCurrentDirectory: () => "/upload",
    getCanonicalFileName: (f) => f,
    useCaseSensitiveFileNames: () => true,
    getNewLine: () => "\n",
    fileExists: (f) => f === UPLOAD || t.sys.fileExists(f),
    readFile: (f) => (f === UPLOAD ? source : t.sys.readFile(f)),
    directoryExists: (d) => d === "/upload" || t.sys.directoryExists(d),
    getDirectories: () => []
  }
}

const toIssue = (t: typeof ts, d: ts.Diagnostic): Issue => {
  // Long elaborations end with the actual mismatch; the first and last lines say enough.
  const lines = t.flattenDiagnosticMessageText(d.messageText, "\n").split("\n")
  const message = lines.length > 2 ? `${lines[0]} … ${lines[lines.length - 1]?.trim()}` : lines.join(" ")
  if (!d.file || d.start === undefined) return { severity: "error", message: `TS${d.code}: ${message}` }
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start)
  return { severity: "error", message: `TS${d.code}: ${message}`, line: line + 1, column: character + 1 }
}

/** Type errors in the upload, each with its line and column; empty when it checks. */
export const typecheck = (source: string): Effect.Effect<ReadonlyArray<Issue>> =>
  Effect.promise(loadCompiler).pipe(
    Effect.map((t) => {
      const options = optionsFor(t)
      const program = t.createProgram({
        rootNames: [UPLOAD],
        options,
        host: hostFor(t, options, source),
        oldProgram: previous
      })
      previous = program
      const file = program.getSourceFile(UPLOAD)
      const diagnostics = [
        ...program.getOptionsDiagnostics(),
        ...program.getGlobalDiagnostics(),
        ...program.getSyntacticDiagnostics(file),
        ...program.getSemanticDiagnostics(file)
      ].filter((d) => d.category === t.DiagnosticCategory.Error)
      return diagnostics.slice(0, MAX_ISSUES).map((d) => toIssue(t, d))
    }),
    Effect.withSpan("sandbox.typecheck", { attributes: { bytes: source.length } })
  )
