/**
 * The program inside a strategy's sandbox child: `node <flags> runner.mjs module.mjs`. It takes
 * away what the permission model leaves reachable and waits for Trader's token (startRunner), loads
 * the bundled strategy, checks its default export, says `Loaded` (or `LoadFailed`), then runs the
 * one backtest Trader sends (`Run`, naming the files beside the module its bars arrive in, each
 * `Bars` message saying how far one has grown) with the engine, running the bar times the bars so
 * far allow, reporting progress and the equity curve so far between chunks of bar times and the
 * rest of the result at the end; or, in live mode, one
 * deployment's strategy bar by bar (liveSession.ts). Bundled by esbuild at Trader's start (see SandboxWorkspace).
 *
 * The child has no network at all: no `--allow-net`, an empty network namespace where Linux
 * allows, and nothing relayed (a strategy's context offers no fetch or connect). The engine runs
 * in the same process as the strategy, so a result is only as trustworthy as the strategy that
 * produced it; the sandbox protects the machine and Trader, not the result from its own strategy.
 */
import { closeSync, openSync, readSync } from "node:fs"
import { dirname, join } from "node:path"
import { pathToFileURL } from "node:url"
import {
  BAR_COLUMN_NAMES,
  BAR_COLUMNS_BAR_BYTES,
  BAR_COLUMNS_BLOCK_HEAD_BYTES,
  BAR_COLUMNS_HEADER_BYTES,
  barColumnsHeaderProblem,
  type FillSettings,
  fromLittleEndian,
  type ProviderName
} from "@quasar/domain"
import type { Strategy } from "@quasar/providers/sdk"
import { startRunner } from "@quasar/sandbox/child"
import type { BacktestRun } from "../engine/BacktestRun"
import { startBacktest } from "../engine/prepareBacktest"
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
type BarsMessage = Extract<HostMessage, { readonly _tag: "Bars" }>

/** A file the host writes beside the module: a plain name, nothing that leads elsewhere. */
const FILE_NAME = /^[A-Za-z0-9_.-]{1,100}$/

/**
 * One member's file as it grows: how far it is read. Each block's columns are read from the file
 * straight into the run's own columns (`BacktestRun.room`), so bars are never copied on this side.
 */
interface Arriving {
  readonly key: string
  readonly path: string
  /** Bytes read (the header and whole blocks only). */
  read: number
  /** The end block is read: the member's bars are all in. */
  whole: boolean
}

/** The run's files, or what is wrong with their announcement. */
const arrivingFiles = (message: RunMessage): Array<Arriving> | string => {
  const directory = dirname(process.argv[2] ?? "")
  const keys = new Set<string>()
  const files: Array<Arriving> = []
  for (const { key, file } of message.bars) {
    if (typeof key !== "string" || keys.has(key)) return `the run announces ${JSON.stringify(key)} twice`
    if (typeof file !== "string" || !FILE_NAME.test(file) || file.startsWith("."))
      return `the bars of ${JSON.stringify(key)} are in ${JSON.stringify(file)}, which is not a file name`
    keys.add(key)
    files.push({ key, path: join(directory, file), read: 0, whole: false })
  }
  return files
}

/** `into` filled from `fd` at `position`, or false when the file ends first. */
const readFully = (fd: number, into: Uint8Array, position: number): boolean => {
  let at = 0
  while (at < into.length) {
    const n = readSync(fd, into, at, into.length - at, position + at)
    if (n === 0) return false
    at += n
  }
  return true
}

/**
 * Reads what `arriving`'s file now holds up to `size` bytes into `run`: the header, then each
 * whole block (a block cut by `size` waits for the next message), then the end block. Returns
 * what is wrong with the file or its bars, if anything.
 */
const readMore = (run: BacktestRun, arriving: Arriving, size: number, final: boolean): string | undefined => {
  const what = `the bars of ${JSON.stringify(arriving.key)}`
  // The end block may come in before the message that says the file is whole.
  if (arriving.whole)
    return size === arriving.read ? undefined : `${what}: bar columns: bytes follow the end block`
  if (!Number.isSafeInteger(size) || size < arriving.read) return `${what} are announced at ${size} bytes`
  let fd: number
  try {
    fd = openSync(arriving.path, "r")
  } catch (e) {
    return `${what} cannot be read: ${describe(e)}`
  }
  try {
    const head = new Uint8Array(BAR_COLUMNS_HEADER_BYTES)
    if (arriving.read === 0 && size >= BAR_COLUMNS_HEADER_BYTES) {
      if (!readFully(fd, head, 0)) return `${what} end before the ${size} bytes announced`
      const problem = barColumnsHeaderProblem(head)
      if (problem !== undefined) return `${what}: ${problem}`
      arriving.read = BAR_COLUMNS_HEADER_BYTES
    }
    while (arriving.read > 0 && !arriving.whole && arriving.read + BAR_COLUMNS_BLOCK_HEAD_BYTES <= size) {
      const blockHead = head.subarray(0, BAR_COLUMNS_BLOCK_HEAD_BYTES)
      if (!readFully(fd, blockHead, arriving.read)) return `${what} end before the ${size} bytes announced`
      const n = new DataView(blockHead.buffer).getUint32(0, true)
      if (n === 0) {
        arriving.read += BAR_COLUMNS_BLOCK_HEAD_BYTES
        arriving.whole = true
        break
      }
      const bytes = BAR_COLUMNS_BLOCK_HEAD_BYTES + n * BAR_COLUMNS_BAR_BYTES
      if (arriving.read + bytes > size) break
      const room = run.room(arriving.key, n)
      if (room === undefined) return `bars given for ${arriving.key} after its last`
      let at = arriving.read + BAR_COLUMNS_BLOCK_HEAD_BYTES
      for (const name of BAR_COLUMN_NAMES) {
        const column = room[name]
        if (!readFully(fd, new Uint8Array(column.buffer, column.byteOffset, column.byteLength), at))
          return `${what} end before the ${size} bytes announced`
        fromLittleEndian(column)
        at += column.byteLength
      }
      const problem = run.commit(arriving.key, n)
      if (problem !== undefined) return problem
      arriving.read += bytes
    }
  } finally {
    closeSync(fd)
  }
  if (arriving.whole && arriving.read !== size) return `${what}: bar columns: bytes follow the end block`
  if (final && !arriving.whole)
    return arriving.read === 0
      ? `${what}: not bar columns: the answer does not start with the QBCS header`
      : `${what}: bar columns cut short: the answer ends before its end block`
  return undefined
}

/** The run going on: its bars arrive in `Bars` messages while it runs what they allow. */
interface Running {
  readonly id: number
  readonly backtest: BacktestRun
  readonly files: ReadonlyArray<Arriving>
  /** Runs the next chunk of bar times; each chunk schedules the next until the run waits or ends. */
  step: () => void
  /** Chunks are scheduled; false while the run waits for bars, and after it answered. */
  stepping: boolean
  answered: boolean
}

let current: Running | undefined
/** `Bars` messages that came before their run's `Run` (the host's feeds and its `Run` race). */
const early: Array<BarsMessage> = []
/** Early `Bars` messages kept at most: a run has a file per universe member and few messages each before it starts. */
const MAX_EARLY = 10_000

const refuse = (run: Running, problems: ReadonlyArray<string>) => {
  run.answered = true
  run.stepping = false
  post({ _tag: "Refused", id: run.id, problems: problems.map((p) => p.slice(0, 2_000)).slice(0, 100) })
}

const start = (message: RunMessage, loaded: Strategy) => {
  const { inputs } = message
  const files = arrivingFiles(message)
  if (typeof files === "string")
    return post({ _tag: "Refused", id: message.id, problems: [files.slice(0, 2_000)] })
  const expected = new Map(message.bars.map((b) => [b.key, b.expected]))
  let setup: ReturnType<typeof startBacktest>
  try {
    setup = startBacktest(
      {
        strategy: loaded,
        codeSha256: inputs.codeSha256,
        params: inputs.params,
        provider: inputs.provider as ProviderName,
        from: inputs.from,
        to: inputs.to,
        initialCash: inputs.initialCash,
        fill: inputs.fill as FillSettings
      },
      (key) => expected.get(key) ?? 0
    )
  } catch (e) {
    return post({
      _tag: "Refused",
      id: message.id,
      problems: [`the strategy cannot be set up: ${describe(e)}`]
    })
  }
  if (!setup.ok) return post({ _tag: "Refused", id: message.id, problems: setup.problems.slice(0, 100) })
  const announced = files.map((f) => f.key)
  const problems = [
    ...setup.keys.filter((key) => !announced.includes(key)).map((key) => `no bars given for ${key}`),
    ...announced
      .filter((key) => !setup.keys.includes(key))
      .map((key) => `bars given for ${key}, which is not in the universe`)
  ]
  if (problems.length > 0) return post({ _tag: "Refused", id: message.id, problems })
  const backtest = setup.run
  const run: Running = {
    id: message.id,
    backtest,
    files,
    step: () => undefined,
    stepping: false,
    answered: false
  }
  current = run
  const every = Math.max(1, Math.floor(message.every))
  // The equity curve goes out as it grows: the host receives it while the next chunk runs.
  let sent = 0
  const sendEquity = () => {
    const curve = backtest.equitySince(sent)
    if (curve.ts.length === 0) return
    post({ _tag: "Equity", run: message.id, at: sent, ...curve })
    sent += curve.ts.length
  }
  // Chunks of bar times, each in its own macrotask: pings and bars are taken between them.
  const step = () => {
    if (run.answered) return
    const over = backtest.advance(every)
    sendEquity()
    const { done, total } = backtest.progress
    post({ _tag: "Progress", run: message.id, done, total })
    if (over) {
      run.answered = true
      run.stepping = false
      return post({ _tag: "Finished", id: message.id, result: backtest.outcome() })
    }
    if (backtest.waiting) {
      run.stepping = false
      return
    }
    setImmediate(step)
  }
  run.step = step
  for (const message of early.splice(0, early.length)) arrive(message)
}

/** Takes what a `Bars` message announces and lets the run go on as far as it now can. */
function arrive(message: BarsMessage) {
  const run = current
  if (run === undefined) {
    if (early.length < MAX_EARLY) early.push(message)
    return
  }
  if (run.answered || message.id !== run.id) return
  const arriving = Number.isSafeInteger(message.index) ? run.files[message.index] : undefined
  if (arriving === undefined)
    return refuse(run, [`bars announced for file ${message.index}, which the run has not`])
  const problem = readMore(run.backtest, arriving, message.size, message.final === true)
  if (problem !== undefined) return refuse(run, [problem])
  if (arriving.whole) run.backtest.finish(arriving.key)
  if (!run.stepping) {
    run.stepping = true
    run.step()
  }
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
      return start(message, strategy)
    }
    case "Bars":
      return arrive(message)
  }
})
