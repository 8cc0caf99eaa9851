/**
 * Type-checks a TypeScript upload against the SDK's own types with the compiler API: an
 * in-memory host (the upload never touches the disk), `strict`, and the SDK specifier mapped to
 * the SDK sources through `paths`. The host serves the upload, TypeScript's own lib files and
 * the SDK's sources, and nothing else: an upload that names another file (`/// <reference
 * path="/etc/passwd" />`, `import "/etc/hostname"`) gets "not found", never its contents. The lib and SDK files are parsed once and kept: the first
 * check costs seconds (lib.dom.d.ts alone is ~1 MB), later ones a few hundred ms.
 *
 * Plain functions over the compiler module: they run in the type-check worker (see
 * TypeChecker.ts), which keeps this CPU-heavy work off DataHub's event loop.
 */
import { basename, dirname, join } from "node:path"
import type ts from "typescript"

export interface TypeIssue {
  readonly severity: "error"
  readonly message: string
  readonly line?: number
  readonly column?: number
}

const UPLOAD = "/upload/provider.ts"
/** A report with hundreds of errors helps nobody; the first ones usually explain the rest. */
const MAX_ISSUES = 20

const toIssue = (t: typeof ts, d: ts.Diagnostic): TypeIssue => {
  // Long elaborations end with the actual mismatch; the first and last lines say enough.
  const lines = t.flattenDiagnosticMessageText(d.messageText, "\n").split("\n")
  const text = lines.length > 2 ? `${lines[0]} … ${lines[lines.length - 1]?.trim()}` : lines.join(" ")
  const message = `TS${d.code}: ${text}`
  if (!d.file || d.start === undefined) return { severity: "error", message }
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start)
  return { severity: "error", message, line: line + 1, column: character + 1 }
}

/** A checker that keeps parsed lib and SDK files (and the previous program) between checks. */
export const makeTypeChecker = (t: typeof ts, sdkSpecifier: string, sdkEntry: string) => {
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: t.ScriptTarget.ES2022,
    module: t.ModuleKind.ESNext,
    moduleResolution: t.ModuleResolutionKind.Bundler,
    // The SDK's types use fetch's Request/Response, which live in the DOM lib.
    lib: ["lib.es2023.d.ts", "lib.dom.d.ts", "lib.dom.asynciterable.d.ts"],
    types: [],
    skipLibCheck: true,
    paths: { [sdkSpecifier]: [sdkEntry] }
  }
  const libDir = dirname(t.getDefaultLibFilePath(options))
  const sdkDir = dirname(sdkEntry)
  /** The only files the checker may read besides the upload. */
  const readable = (f: string): boolean =>
    (dirname(f) === libDir && /^lib\.[\w.]+\.d\.ts$/.test(basename(f))) ||
    (dirname(f) === sdkDir && f.endsWith(".ts"))
  const read = (f: string): string | undefined => (readable(f) ? t.sys.readFile(f) : undefined)
  const cached = new Map<string, ts.SourceFile>()
  let previous: ts.Program | undefined

  const hostFor = (source: string): ts.CompilerHost => ({
    getSourceFile: (fileName, languageVersion) => {
      if (fileName === UPLOAD) return t.createSourceFile(fileName, source, languageVersion, true)
      const hit = cached.get(fileName)
      if (hit) return hit
      const text = read(fileName)
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
    fileExists: (f) => f === UPLOAD || (readable(f) && t.sys.fileExists(f)),
    readFile: (f) => (f === UPLOAD ? source : read(f)),
    directoryExists: (d) => d === "/upload" || d === libDir || d === sdkDir,
    getDirectories: () => []
  })

  /** Type errors in the upload, each with its line and column; empty when it checks. */
  return (source: string): ReadonlyArray<TypeIssue> => {
    const program = t.createProgram({
      rootNames: [UPLOAD],
      options,
      host: hostFor(source),
      oldProgram: previous
    })
    previous = program
    const file = program.getSourceFile(UPLOAD)
    return [
      ...program.getOptionsDiagnostics(),
      ...program.getGlobalDiagnostics(),
      ...program.getSyntacticDiagnostics(file),
      ...program.getSemanticDiagnostics(file)
    ]
      .filter((d) => d.category === t.DiagnosticCategory.Error)
      .slice(0, MAX_ISSUES)
      .map((d) => toIssue(t, d))
  }
}
