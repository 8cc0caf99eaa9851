/**
 * The program inside a strategy's sandbox child: `node <flags> runner.mjs module.mjs`. It takes
 * away what the permission model leaves reachable and waits for Trader's token (startRunner), loads
 * the bundled strategy, checks its default export, says `Loaded` (or `LoadFailed`), then runs the
 * one backtest Trader sends (`Run`, its bars in `Bars` chunks, then `Start`) with the engine,
 * reporting progress between chunks of bar times and the result at the end. Bundled by esbuild at Trader's start (see SandboxWorkspace).
 *
 * The child has no network at all: no `--allow-net`, an empty network namespace where Linux
 * allows, and nothing relayed (a strategy's context offers no fetch or connect). The engine runs
 * in the same process as the strategy, so a result is only as trustworthy as the strategy that
 * produced it; the sandbox protects the machine and Trader, not the result from its own strategy.
 */
import { pathToFileURL } from "node:url"
import type { FillSettings, ProviderName } from "@quasar/domain"
import type { Strategy } from "@quasar/providers/sdk"
import { startRunner } from "@quasar/sandbox/child"
import { prepareBacktest } from "../engine/prepareBacktest"
import type { BacktestInput, BarColumns } from "../engine/types"
import type { ChildMessage, HostMessage } from "./protocol"

const { post, token } = await startRunner<ChildMessage>("strategy runner")
// A stray rejected promise (a strategy cannot await anything the engine waits for) is logged, not fatal.
process.on("unhandledRejection", (e) =>
  post({
    _tag: "Log",
    level: "warn",
    message: "unhandled promise rejection in strategy code",
    fields: { error: describe(e) }
  })
)

const describe = (e: unknown): string => {
  try {
    if (typeof e === "object" && e !== null && (e as { code?: unknown }).code === "ERR_ACCESS_DENIED")
      return `the sandbox denied ${String((e as { permission?: unknown }).permission ?? "this operation")}: strategy code may only use what its context offers`
    return e instanceof Error ? `${e.name}: ${e.message}` : String(e)
  } catch {
    return "an error that cannot be described"
  }
}

/**
 * The export's fields, read once into a plain object: a getter cannot answer differently later,
 * and the engine sees data, not the module's object.
 */
const snapshot = (value: unknown): Strategy | string => {
  if (typeof value !== "object" || value === null)
    return "the module's default export must be a strategy: export default defineStrategy({ … })"
  const v = value as Record<string, unknown>
  if (v.kind !== "strategy")
    return `the default export is not a strategy (kind ${JSON.stringify(v.kind)}): build it with defineStrategy`
  if (typeof v.onBar !== "function") return "the strategy has no onBar function"
  if (typeof v.name !== "string" || typeof v.version !== "string")
    return "the strategy needs a name and a version (strings)"
  if (typeof v.universe !== "object" || v.universe === null) return "the strategy needs a universe"
  const universe = v.universe as Record<string, unknown>
  if (!Array.isArray(universe.symbols)) return "the strategy's universe needs a list of symbols"
  return {
    kind: "strategy",
    sdkVersion: 1,
    name: v.name,
    version: v.version,
    params: (typeof v.params === "object" && v.params !== null ? v.params : {}) as Strategy["params"],
    universe: {
      timeframe: universe.timeframe as Strategy["universe"]["timeframe"],
      symbols: [...universe.symbols]
    },
    warmup: v.warmup as number,
    ...(v.window === undefined ? {} : { window: v.window as number }),
    onBar: v.onBar as Strategy["onBar"]
  }
}

let strategy: Strategy | undefined
try {
  const path = process.argv[2]
  if (!path) throw new Error("no module path given")
  const namespace = (await import(pathToFileURL(path).href)) as { readonly default?: unknown }
  const found = snapshot(namespace.default)
  if (typeof found === "string") post({ _tag: "LoadFailed", token, problems: [found] })
  else {
    strategy = found
    post({ _tag: "Loaded", token, name: found.name.slice(0, 200), version: found.version.slice(0, 200) })
  }
} catch (e) {
  post({ _tag: "LoadFailed", token, problems: [`the module threw while loading: ${describe(e)}`] })
}

type RunMessage = Extract<HostMessage, { readonly _tag: "Run" }>
type BarsMessage = Extract<HostMessage, { readonly _tag: "Bars" }>

const COLUMNS = ["ts", "open", "high", "low", "close", "volume"] as const

/** A run whose bars are arriving: each key's columns, allocated at the announced length, and how many are in. */
interface Receiving {
  readonly message: RunMessage
  readonly columns: Map<string, BarColumns>
  readonly received: Map<string, number>
}

const allocate = (length: number): BarColumns => ({
  ts: new Float64Array(length),
  open: new Float64Array(length),
  high: new Float64Array(length),
  low: new Float64Array(length),
  close: new Float64Array(length),
  volume: new Float64Array(length)
})

const receive = (message: RunMessage): Receiving | string => {
  const columns = new Map<string, BarColumns>()
  const received = new Map<string, number>()
  for (const [key, length] of message.lengths) {
    if (!Number.isSafeInteger(length) || length < 0 || columns.has(key))
      return `the run announces ${JSON.stringify(key)} with ${length} bars`
    columns.set(key, allocate(length))
    received.set(key, 0)
  }
  return { message, columns, received }
}

/** Copies a chunk into its key's columns; what is wrong with it otherwise. */
const take = (receiving: Receiving, chunk: BarsMessage): string | undefined => {
  const target = receiving.columns.get(chunk.key)
  const at = receiving.received.get(chunk.key)
  if (target === undefined || at === undefined)
    return `bars came for ${JSON.stringify(chunk.key)}, which the run did not announce`
  const count = chunk.columns.ts.length
  if (chunk.offset !== at || at + count > target.ts.length)
    return `bars ${chunk.offset}… of ${JSON.stringify(chunk.key)} came out of order or past its announced length`
  for (const name of COLUMNS) {
    if (chunk.columns[name].length !== count)
      return `the bars of ${JSON.stringify(chunk.key)} came with columns of different lengths`
    target[name].set(chunk.columns[name], at)
  }
  receiving.received.set(chunk.key, at + count)
  return undefined
}

const missing = (receiving: Receiving): Array<string> =>
  [...receiving.columns].flatMap(([key, columns]) => {
    const got = receiving.received.get(key) ?? 0
    return got === columns.ts.length ? [] : [`${key} got ${got} of its ${columns.ts.length} bars`]
  })

const run = (receiving: Receiving, loaded: Strategy) => {
  const { message } = receiving
  const { inputs } = message
  const input: BacktestInput = {
    strategy: loaded,
    codeSha256: inputs.codeSha256,
    params: inputs.params,
    provider: inputs.provider as ProviderName,
    from: inputs.from,
    to: inputs.to,
    initialCash: inputs.initialCash,
    fill: inputs.fill as FillSettings,
    bars: receiving.columns
  }
  let prepared: ReturnType<typeof prepareBacktest>
  try {
    prepared = prepareBacktest(input)
  } catch (e) {
    return post({
      _tag: "Refused",
      id: message.id,
      problems: [`the strategy cannot be set up: ${describe(e)}`]
    })
  }
  if (!prepared.ok)
    return post({ _tag: "Refused", id: message.id, problems: prepared.problems.slice(0, 100) })
  const backtest = prepared.run
  const every = Math.max(1, Math.floor(message.every))
  // Chunks of bar times, each in its own macrotask: pings are answered between them.
  const step = () => {
    const over = backtest.advance(every)
    const { done, total } = backtest.progress
    post({ _tag: "Progress", run: message.id, done, total })
    if (!over) return setImmediate(step)
    post({ _tag: "Finished", id: message.id, result: backtest.result() })
  }
  step()
}

/** The run whose bars are arriving, or why its announcement cannot be taken (the reply to whatever comes next). */
let receiving: Receiving | string | undefined
let started = false
process.on("message", (message: HostMessage) => {
  switch (message._tag) {
    case "Ping":
      return post({ _tag: "Pong", id: message.id })
    case "Run":
      if (receiving !== undefined || strategy === undefined) return
      receiving = receive(message)
      return
    case "Bars": {
      if (receiving === undefined || started) return
      const problem = typeof receiving === "string" ? receiving : take(receiving, message)
      return problem === undefined
        ? post({ _tag: "Taken", id: message.id })
        : post({ _tag: "Refused", id: message.id, problems: [problem.slice(0, 2_000)] })
    }
    case "Start": {
      const current = receiving
      if (current === undefined || started || strategy === undefined) return
      started = true
      const problems = typeof current === "string" ? [current] : missing(current)
      if (typeof current === "string" || problems.length > 0)
        return post({
          _tag: "Refused",
          id: message.id,
          problems: problems.map((p) => p.slice(0, 2_000)).slice(0, 100)
        })
      return run(current, strategy)
    }
  }
})
