/**
 * The program inside a strategy's sandbox child: `node <flags> runner.mjs module.mjs`. It takes
 * away what the permission model leaves reachable and waits for Trader's token (startRunner), loads
 * the bundled strategy, checks its default export, says `Loaded` (or `LoadFailed`), then runs the
 * one backtest Trader sends (`Run`, naming the files of its bars beside the module) with the
 * engine, reporting progress and the equity curve so far between chunks of bar times and the
 * rest of the result at the end; or, in live mode, one
 * deployment's strategy bar by bar (liveSession.ts). Bundled by esbuild at Trader's start (see SandboxWorkspace).
 *
 * The child has no network at all: no `--allow-net`, an empty network namespace where Linux
 * allows, and nothing relayed (a strategy's context offers no fetch or connect). The engine runs
 * in the same process as the strategy, so a result is only as trustworthy as the strategy that
 * produced it; the sandbox protects the machine and Trader, not the result from its own strategy.
 */
import { readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { pathToFileURL } from "node:url"
import {
  concatBarColumns,
  decodeBarColumnBlocks,
  emptyBarColumns,
  type FillSettings,
  type ProviderName
} from "@quasar/domain"
import type { Strategy } from "@quasar/providers/sdk"
import { startRunner } from "@quasar/sandbox/child"
import { Either } from "effect"
import { prepareBacktest } from "../engine/prepareBacktest"
import type { BacktestInput, BarColumns } from "../engine/types"
import { makeLiveSession } from "./liveSession"
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

/** A file the host wrote beside the module: a plain name, nothing that leads elsewhere. */
const FILE_NAME = /^[A-Za-z0-9_.-]{1,100}$/

/**
 * Each key's bars, read from the files the run names (see protocol.ts), as views over what was
 * read; or what is wrong with the announcement or a file.
 */
const readBars = (message: RunMessage): Map<string, BarColumns> | string => {
  const columns = new Map<string, BarColumns>()
  const directory = dirname(process.argv[2] ?? "")
  for (const { key, length, file } of message.bars) {
    if (!Number.isSafeInteger(length) || length < 0 || columns.has(key))
      return `the run announces ${JSON.stringify(key)} with ${length} bars`
    if (!FILE_NAME.test(file) || file.startsWith("."))
      return `the bars of ${JSON.stringify(key)} are in ${JSON.stringify(file)}, which is not a file name`
    let bytes: Uint8Array
    try {
      bytes = readFileSync(join(directory, file))
    } catch (e) {
      return `the bars of ${JSON.stringify(key)} cannot be read: ${describe(e)}`
    }
    const blocks = decodeBarColumnBlocks(bytes)
    if (Either.isLeft(blocks)) return `the bars of ${JSON.stringify(key)}: ${blocks.left}`
    const bars = concatBarColumns(blocks.right.length === 0 ? [emptyBarColumns()] : blocks.right)
    if (bars.ts.length !== length) return `${key} got ${bars.ts.length} of its ${length} bars`
    columns.set(key, bars)
  }
  return columns
}

const run = (message: RunMessage, bars: ReadonlyMap<string, BarColumns>, loaded: Strategy) => {
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
    bars
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
  // The equity curve goes out as it grows: the host receives it while the next chunk runs.
  let sent = 0
  const sendEquity = () => {
    const curve = backtest.equitySince(sent)
    if (curve.ts.length === 0) return
    post({ _tag: "Equity", run: message.id, at: sent, ...curve })
    sent += curve.ts.length
  }
  // Chunks of bar times, each in its own macrotask: pings are answered between them.
  const step = () => {
    const over = backtest.advance(every)
    sendEquity()
    const { done, total } = backtest.progress
    post({ _tag: "Progress", run: message.id, done, total })
    if (!over) return setImmediate(step)
    post({ _tag: "Finished", id: message.id, result: backtest.outcome() })
  }
  step()
}

let started = false
const live = makeLiveSession(post, describe)
process.on("message", (message: HostMessage) => {
  // A child runs one backtest or one live session, never both.
  if (!started && live.handle(strategy, message)) return
  switch (message._tag) {
    case "Ping":
      return post({ _tag: "Pong", id: message.id })
    case "Run": {
      if (started || strategy === undefined) return
      started = true
      const bars = readBars(message)
      if (typeof bars === "string")
        return post({ _tag: "Refused", id: message.id, problems: [bars.slice(0, 2_000)] })
      return run(message, bars, strategy)
    }
  }
})
