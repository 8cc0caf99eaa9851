/**
 * Validates an upload the way it will run: size, type-check (TypeScript), bundle, then load in a
 * fresh sandbox that checks the SDK contract and describes the export, whose manifest must
 * decode and match the name and kind it was uploaded as. The sandbox is always killed after.
 */
import type { CodeKind, CodeLanguage, CodeManifest, ValidationIssue, ValidationReport } from "@quasar/domain"
import { nestingProblem, SandboxLimits, type SandboxSetupError } from "@quasar/sandbox"
import {
  bundleUpload,
  EgressDenied,
  SandboxNetwork,
  type SandboxNetworkService,
  SandboxQuota,
  SandboxWorkspace
} from "@quasar/sandbox/node"
import { Clock, Context, DateTime, Effect, Either, Layer } from "effect"
import { Agent } from "undici"
import { toManifest } from "./manifest"
import { start } from "./ProviderSandbox"
import { TypeChecker } from "./TypeChecker"

type Issue = typeof ValidationIssue.Type

export interface ValidationResult {
  readonly report: ValidationReport
  /** Present only when the report is ok. */
  readonly manifest: CodeManifest | null
}

export const MAX_SOURCE_BYTES = 1024 * 1024
/** Each validation starts a Node process; a burst of uploads must not start dozens at once. */
const CONCURRENT_VALIDATIONS = 2

const error = (message: string): Issue => ({ severity: "error", message })

const builder: Record<CodeKind, string> = {
  provider: "defineProvider",
  broker: "defineBroker",
  strategy: "defineStrategy"
}

const mismatch = (manifest: CodeManifest, name: string, kind: CodeKind): Array<Issue> => [
  ...(manifest.name === name
    ? []
    : [
        error(
          `the module is named "${manifest.name}" but was uploaded as "${name}": upload it as "${manifest.name}" or change its name to "${name}"`
        )
      ]),
  ...(manifest.kind === kind
    ? []
    : [
        error(
          `the module is a ${manifest.kind} but was uploaded as a ${kind}: build it with ${builder[kind]} or upload it as a ${manifest.kind}`
        )
      ])
]

/**
 * The network a strategy's validation gets: none. Nothing in it is called, but module code can
 * write relay requests on the IPC channel itself; each is refused, whatever the allowlist says.
 */
const noNetwork = (network: SandboxNetworkService): SandboxNetworkService => {
  const refusal = () => new EgressDenied("strategy code has no network access")
  return {
    isolation: network.isolation,
    egress: {
      rules: { allow: [], reserved: [] },
      resolve: () => Promise.reject(refusal()),
      dispatcher: new Agent({ connect: (_options, callback) => callback(refusal(), null) })
    }
  }
}

const make = Effect.gen(function* () {
  const workspace = yield* SandboxWorkspace
  const typeChecker = yield* TypeChecker
  const limits = yield* SandboxLimits
  const network = yield* SandboxNetwork
  const offline = noNetwork(network)
  const quota = yield* SandboxQuota
  const slots = yield* Effect.makeSemaphore(CONCURRENT_VALIDATIONS)

  /** Loads the bundle in a fresh sandbox: the manifest issues, or the manifest. */
  const load = (name: string, kind: CodeKind, code: string) =>
    Effect.scoped(
      Effect.gen(function* () {
        const directory = yield* workspace.prepare(`validate-${name}`, code)
        const sandbox = yield* start({
          provider: name,
          label: `validation of ${name}`,
          directory,
          heartbeat: false
        })
        return toManifest(sandbox.manifest, sandbox.functions)
      })
    ).pipe(
      Effect.catchTag("SandboxLoadError", (e) =>
        Effect.succeed(
          Either.left(e.problems.map((p, i) => (i === 0 && e.at ? { ...error(p), ...e.at } : error(p))))
        )
      ),
      Effect.provideService(SandboxLimits, limits),
      Effect.provideService(SandboxNetwork, kind === "strategy" ? offline : network),
      Effect.provideService(SandboxQuota, quota)
    )

  const check = (name: string, kind: CodeKind, language: CodeLanguage, source: string) =>
    Effect.gen(function* () {
      const bytes = new TextEncoder().encode(source).length
      if (bytes > MAX_SOURCE_BYTES)
        return {
          issues: [error(`the source is ${bytes} bytes; the limit is 1 MiB: remove dead code or data`)]
        }
      // Before any parser: nesting deep enough to overflow one is refused unread (see nesting.ts).
      const tooDeep = nestingProblem(source)
      if (tooDeep !== undefined) return { issues: [error(tooDeep)] }
      const typeIssues = language === "typescript" ? yield* typeChecker.check(source) : []
      const bundled = yield* Effect.either(bundleUpload(source, language))
      if (Either.isLeft(bundled)) return { issues: [...typeIssues, ...bundled.left] }
      const { code, warnings } = bundled.right
      // Code that does not type-check is rejected anyway; running it would only add noise.
      if (typeIssues.length > 0) return { issues: [...typeIssues, ...warnings] }
      const loaded = yield* slots.withPermits(1)(load(name, kind, code))
      if (Either.isLeft(loaded)) return { issues: [...warnings, ...loaded.left] }
      const issues = [...warnings, ...mismatch(loaded.right, name, kind)]
      return { issues, manifest: loaded.right }
    })

  const validate = (
    name: string,
    kind: CodeKind,
    language: CodeLanguage,
    source: string
  ): Effect.Effect<ValidationResult, SandboxSetupError> =>
    Effect.gen(function* () {
      const started = yield* Clock.currentTimeMillis
      const { issues, manifest } = yield* check(name, kind, language, source)
      const ok = !issues.some((i) => i.severity === "error")
      const report: ValidationReport = {
        ok,
        issues,
        durationMs: (yield* Clock.currentTimeMillis) - started,
        checkedAt: yield* DateTime.now
      }
      yield* Effect.logInfo(ok ? "upload validated" : "upload rejected").pipe(
        Effect.annotateLogs({
          issues: issues.length,
          durationMs: report.durationMs,
          first: issues[0]?.message
        })
      )
      return { report, manifest: ok && manifest ? manifest : null }
    }).pipe(
      Effect.annotateLogs({ name, kind, language }),
      Effect.withSpan("Validator.validate", { attributes: { name, kind, language, bytes: source.length } })
    )

  return { validate } as const
})

export class Validator extends Context.Tag("@quasar/datahub/Validator")<
  Validator,
  Effect.Effect.Success<typeof make>
>() {
  static readonly layer = Layer.effect(Validator, make).pipe(Layer.provide(TypeChecker.layer))
}
