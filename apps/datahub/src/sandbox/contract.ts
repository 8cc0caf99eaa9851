/**
 * Checks a module's default export against the SDK contract, inside the sandbox child (only
 * there can functions be seen). It answers in terms an author can act on; the host still
 * decodes the data fields with the domain `Manifest` schema, since the child is not trusted.
 * Reading the export can run author code (getters, proxies), so every access is guarded.
 */
import type { AssetInfo, HistoryPage, LiveEvent, ParamsSpec, ProviderContext } from "@quasar/providers/sdk"
// File by file, like the runner's other imports: the SDK's index would drag in more than this.
import { resolveParams } from "@quasar/providers/sdk"

export type Capability = "listAssets" | "history" | "live"

/** What the runner calls; `this` is the export itself, as the SDK's method syntax expects. */
export interface RunnableModule {
  readonly listAssets: (ctx: ProviderContext) => Promise<ReadonlyArray<AssetInfo>>
  readonly history: ((ctx: ProviderContext, request: unknown) => AsyncIterable<HistoryPage>) | undefined
  readonly live: ((ctx: ProviderContext, request: unknown) => AsyncIterable<LiveEvent>) | undefined
  readonly rateLimit: { readonly requestsPerSecond: number; readonly burst?: number } | undefined
}

export type ContractCheck =
  | {
      readonly ok: true
      readonly module: RunnableModule
      readonly manifest: Record<string, unknown>
      readonly functions: ReadonlyArray<Capability>
    }
  | { readonly ok: false; readonly problems: ReadonlyArray<string> }

const FIX =
  "build it with defineProvider({...}), defineBroker({...}) or defineStrategy({...}) from @quasar/providers/sdk"

const show = (value: unknown): string => {
  try {
    return typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? typeof value)
  } catch {
    return typeof value
  }
}

/** A plain-data copy (what crosses the IPC channel), or undefined when it is not plain data. */
const plain = (value: unknown): unknown => {
  try {
    return value === undefined ? undefined : JSON.parse(JSON.stringify(value))
  } catch {
    return undefined
  }
}

const bind = <F>(target: object, fn: unknown): F | undefined =>
  typeof fn === "function" ? ((fn as (...args: Array<unknown>) => unknown).bind(target) as F) : undefined

export const checkExport = (namespace: Record<string, unknown>): ContractCheck => {
  try {
    return check(namespace)
  } catch (e) {
    return {
      ok: false,
      problems: [`reading the default export threw: ${e instanceof Error ? e.message : show(e)}`]
    }
  }
}

const check = (namespace: Record<string, unknown>): ContractCheck => {
  const exported = namespace.default
  if (exported === undefined)
    return {
      ok: false,
      problems: [`the module has no default export: end it with \`export default\` and ${FIX}`]
    }
  if (typeof exported !== "object" || exported === null)
    return {
      ok: false,
      problems: [`the default export is ${show(exported)}, not a module definition: ${FIX}`]
    }
  const e = exported as Record<string, unknown>
  if (e.kind === "strategy") return checkStrategy(e)
  const problems: Array<string> = []
  const kind = e.kind
  if (e.sdkVersion !== 1)
    problems.push(`sdkVersion is ${show(e.sdkVersion)}; this DataHub runs SDK version 1: ${FIX}`)
  // Which fields are required depends on the kind: without one, listing them would mislead.
  if (kind !== "provider" && kind !== "broker")
    return {
      ok: false,
      problems: [
        `the default export's kind is ${show(kind)}, expected "provider", "broker" or "strategy": ${FIX}`,
        ...problems
      ]
    }
  for (const field of ["name", "displayName", "version"] as const)
    if (typeof e[field] !== "string" || e[field] === "") problems.push(`${field} must be a non-empty string`)
  if (kind === "provider" && !Array.isArray(e.timeframes))
    problems.push(`timeframes must be an array such as ["1m", "1h", "1d"]`)
  const settings = plain(e.settings)
  if (typeof settings !== "object" || settings === null || Array.isArray(settings))
    problems.push("settings must be an object of setting specs (use {} when there are none)")
  if (typeof e.listAssets !== "function")
    problems.push("listAssets must be a function returning a Promise of assets")
  if (kind === "provider" && typeof e.history !== "function")
    problems.push("history must be an async generator function yielding { bars } pages")
  if (e.live !== undefined && typeof e.live !== "function")
    problems.push("live must be an async generator function when present")
  const rateLimit = e.rateLimit as { requestsPerSecond?: unknown; burst?: unknown } | undefined
  if (
    rateLimit !== undefined &&
    (typeof rateLimit !== "object" ||
      rateLimit === null ||
      typeof rateLimit.requestsPerSecond !== "number" ||
      !(rateLimit.requestsPerSecond > 0) ||
      (rateLimit.burst !== undefined && !(typeof rateLimit.burst === "number" && rateLimit.burst >= 1)))
  )
    problems.push("rateLimit must be { requestsPerSecond: a positive number, burst?: at least 1 }")
  if (problems.length > 0) return { ok: false, problems }

  const functions: Array<Capability> = ["listAssets"]
  if (kind === "provider") functions.push("history")
  if (kind === "provider" && typeof e.live === "function") functions.push("live")
  return {
    ok: true,
    module: {
      listAssets: bind(exported, e.listAssets)!,
      history: kind === "provider" ? bind(exported, e.history) : undefined,
      live: kind === "provider" ? bind(exported, e.live) : undefined,
      rateLimit: plain(rateLimit) as RunnableModule["rateLimit"]
    },
    manifest: {
      name: e.name,
      displayName: e.displayName,
      version: e.version,
      kind,
      timeframes: kind === "provider" ? plain(e.timeframes) : [],
      settings,
      publishDelayMs: plain(e.publishDelayMs)
    },
    functions
  }
}

/** Strategies are never called through the provider protocol; a call says so instead of running. */
const notAProvider = () => Promise.reject(new Error("a strategy is not a provider: it lists no assets"))

/** A spec too malformed for `resolveParams` (an enum without values) is left for the host's decoding to name. */
const defaultsCheck = (params: ParamsSpec) => {
  try {
    return resolveParams(params, {})
  } catch {
    return { ok: true } as const
  }
}

const STRATEGY_FIX = "build it with defineStrategy({...}) from @quasar/providers/sdk"

/**
 * A strategy's export: the SDK's marks, an `onBar` function and params whose defaults pass the
 * SDK's own `resolveParams` (what Trader applies to a run). Its data fields go to the host as
 * they are, to be decoded there; nothing of it is called here, and it gets no context at all.
 */
const checkStrategy = (e: Record<string, unknown>): ContractCheck => {
  const problems: Array<string> = []
  if (e.sdkVersion !== 1)
    problems.push(`sdkVersion is ${show(e.sdkVersion)}; this DataHub runs SDK version 1: ${STRATEGY_FIX}`)
  for (const field of ["name", "version"] as const)
    if (typeof e[field] !== "string" || e[field] === "") problems.push(`${field} must be a non-empty string`)
  if (typeof e.onBar !== "function") problems.push("onBar must be a function (ctx, bars) => void")
  const params = plain(e.params)
  if (typeof params !== "object" || params === null || Array.isArray(params))
    problems.push("params must be an object of param specs (use {} when there are none)")
  else {
    const resolved = defaultsCheck(params as ParamsSpec)
    if (!resolved.ok) problems.push(...resolved.problems.map((p) => `params: ${p}`))
  }
  if (problems.length > 0) return { ok: false, problems }
  return {
    ok: true,
    module: { listAssets: notAProvider, history: undefined, live: undefined, rateLimit: undefined },
    manifest: {
      kind: "strategy",
      name: e.name,
      version: e.version,
      description: plain(e.description),
      params,
      universe: plain(e.universe),
      warmup: plain(e.warmup),
      window: plain(e.window)
    },
    functions: []
  }
}
