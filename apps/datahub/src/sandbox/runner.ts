/**
 * The program inside a provider's sandbox child: `node <flags> runner.mjs module.mjs`. It takes
 * away what the permission model leaves reachable (`@quasar/sandbox` childHardening.ts), waits for
 * DataHub's token (`@quasar/sandbox` childInit.ts), loads the bundled provider, checks its default
 * export, says `Loaded` (or `LoadFailed`), then answers the host's calls. Bundled by esbuild
 * without Effect (see `@quasar/sandbox` bundle.ts) so each child stays small.
 *
 * The child is started with Node's permission model: it may read its own directory only, and
 * cannot write files, spawn processes or start workers (those throw ERR_ACCESS_DENIED), and has
 * no network: `ctx.fetch` and `ctx.connect` are relayed to DataHub, which applies the egress
 * policy (`@quasar/sandbox` node/egress/).
 */
import { dirname, join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
// The one host module the child needs itself, imported by name: the host's index would drag in
// the Effect-based runner and Schema validation (see bundle.ts on keeping this bundle small).
import { makeTokenBucket } from "@quasar/providers/host"
import { makeChildContexts, makeChildLogger, packEvents, packPage, startRunner } from "@quasar/sandbox/child"
import { checkExport, type RunnableModule } from "./contract"
import { LiveBuffer } from "./liveBuffer"
import type { CallSettings, ChildMessage, HostMessage, LoadPosition, ThrownError } from "./protocol"
import { bufferFull, current, initial, type RunnerEvent, type RunnerOutput, step } from "./runnerState"

/** Same budget as the in-process host (host/context.ts): an API that hangs must not hold a call. */
const REQUEST_TIMEOUT_MS = 30_000

/** Every denial reaches DataHub's log with the provider's name, even if provider code catches it. */
const { post, denied, token } = await startRunner<ChildMessage>("sandbox runner")

const describeError = (e: unknown): string => {
  try {
    if (typeof e !== "object" || e === null) return String(e)
    const { code, permission, resource, message, cause } = e as Record<string, unknown>
    if (code === "ERR_ACCESS_DENIED") {
      denied(
        `${typeof permission === "string" ? permission : "an operation"}${typeof resource === "string" ? ` (${resource})` : ""}`
      )
      return `the sandbox denied ${typeof permission === "string" ? permission : "this operation"}${
        typeof resource === "string" ? ` access to ${resource}` : ""
      }: provider code may only use what the SDK context offers (fetch, connect, log)`
    }
    const text = typeof message === "string" ? message : String(e)
    const why = cause instanceof Error ? ` (${cause.message})` : ""
    return text + why
  } catch {
    return "an error that cannot be described"
  }
}

const thrown = (e: unknown): ThrownError => {
  try {
    const name = e instanceof Error ? e.name : "Error"
    const hint = (e as { retryAfterMs?: unknown } | null)?.retryAfterMs
    return {
      name: typeof name === "string" ? name : "Error",
      message: describeError(e),
      ...(typeof hint === "number" && Number.isFinite(hint) ? { retryAfterMs: hint } : {})
    }
  } catch {
    return { name: "Error", message: "an error that cannot be described" }
  }
}

/** A logger whose lines name `call`, so that DataHub logs each with that call's own context. */
const loggerFor = makeChildLogger(post)

/** Lines outside any call (load time, stray rejections). */
const log = loggerFor()

// A stray rejected promise in provider code should not take down a sandbox shared by many calls.
process.on("unhandledRejection", (e) =>
  log.error("unhandled promise rejection in provider code", { error: describeError(e) })
)

/** Runs `f`, turning a synchronous throw into a rejection. */
const attempt = <A>(f: () => A | PromiseLike<A>): Promise<A> => new Promise<A>((resolve) => resolve(f()))

/**
 * Where in the upload `e` was thrown: the first stack frame in `provider.ts`/`provider.js` next
 * to the module, which the bundle's source map (`@quasar/sandbox` bundle.ts) makes the upload's own line and column.
 * Node names a source-mapped frame by path, an unmapped one by file URL.
 */
const uploadPosition = (e: unknown, modulePath: string): LoadPosition | undefined => {
  try {
    const stack = e instanceof Error ? e.stack : undefined
    if (typeof stack !== "string") return undefined
    const uploads = ["provider.ts", "provider.js"].map((f) => join(dirname(modulePath), f))
    for (const line of stack.split("\n")) {
      const frame = /\(?(\S+):(\d+):(\d+)\)?\s*$/.exec(line)
      if (!frame) continue
      const [, file = "", row = "", column = ""] = frame
      const path = file.startsWith("file://") ? fileURLToPath(file) : file
      if (uploads.includes(path)) return { line: Number(row), column: Number(column) }
    }
    return undefined
  } catch {
    return undefined
  }
}

const load = async (): Promise<RunnableModule | undefined> => {
  let namespace: Record<string, unknown>
  const path = process.argv[2] ?? ""
  try {
    if (!path) throw new Error("the runner was started without a module path")
    namespace = await import(pathToFileURL(path).href)
  } catch (e) {
    const at = uploadPosition(e, path)
    const where = at ? ` (line ${at.line}, column ${at.column})` : ""
    post({
      _tag: "LoadFailed",
      token,
      problems: [`the module threw while loading${where}: ${describeError(e)}`],
      ...(at ? { at } : {})
    })
    return undefined
  }
  const checked = checkExport(namespace)
  if (!checked.ok) {
    post({ _tag: "LoadFailed", token, problems: checked.problems })
    return undefined
  }
  post({ _tag: "Loaded", token, manifest: checked.manifest, functions: checked.functions })
  return checked.module
}

const serve = (provider: RunnableModule) => {
  const bucket = provider.rateLimit ? makeTokenBucket(provider.rateLimit) : undefined

  const relay = makeChildContexts(post, { bucket, loggerFor, requestTimeoutMs: REQUEST_TIMEOUT_MS })

  /** A history stream: one page per pull, the next one asked for ahead. */
  interface PageResources {
    readonly kind: "history"
    readonly controller: AbortController
    readonly iterator: AsyncIterator<unknown>
    /**
     * The next item, already asked for: while the host handles one page the provider produces
     * the following one, so a backfill is not one IPC round trip slower per page.
     */
    ahead?: Promise<IteratorResult<unknown>> | undefined
  }
  /** A live stream: read ahead into a bounded buffer, everything buffered sent per pull. */
  interface LiveResources {
    readonly kind: "live"
    readonly controller: AbortController
    readonly iterator: AsyncIterator<unknown>
    readonly buffer: LiveBuffer
    /** Restarts the reader paused on a full buffer. */
    resume?: (() => void) | undefined
  }
  type Resources = PageResources | LiveResources
  /** What the reducer's open calls and streams hold (runnerState.ts keeps the bookkeeping). */
  const calls = new Map<number, AbortController>()
  const streams = new Map<number, Resources>()
  let state = initial

  const askNext = (stream: PageResources): Promise<IteratorResult<unknown>> => {
    const next = attempt(() => stream.iterator.next())
    // Reported by the Pull that takes it; until then it must not count as unhandled.
    next.catch(() => undefined)
    return next
  }

  /** A result that cannot cross the channel is the provider's bug, reported as a failure. */
  const answer = (message: Extract<ChildMessage, { _tag: "Result" | "Item" | "Items" }>) => {
    if (!post(message))
      post({
        _tag: "Failed",
        id: message.id,
        error: {
          name: "Error",
          message: "the provider returned a value that cannot be sent (functions, symbols…)"
        }
      })
  }

  const dispatch = (event: RunnerEvent) => {
    const next = step(state, event)
    state = next.state
    for (const output of next.outputs) perform(output)
  }

  /** Reads the provider's live iterator into the buffer until it ends, pausing while it is full. */
  const readLive = async (id: number, epoch: number, stream: LiveResources) => {
    let end: { readonly error?: unknown } | undefined
    try {
      while (current(state, id, epoch)) {
        if (bufferFull(state, id)) {
          await new Promise<void>((resume) => {
            stream.resume = resume
          })
          continue
        }
        const result = await stream.iterator.next()
        if (!current(state, id, epoch)) return
        if (typeof result !== "object" || result === null)
          throw new Error("the iterator returned a non-object")
        if (result.done) {
          end = {}
          break
        }
        stream.buffer.push(result.value)
        dispatch({ _tag: "LiveRead", id, epoch, buffered: stream.buffer.size })
      }
    } catch (error) {
      end = { error }
    }
    if (end) dispatch({ _tag: "LiveEnded", id, epoch, end })
  }

  const startStream = (
    id: number,
    epoch: number,
    method: "history" | "live",
    settings: CallSettings,
    request: unknown
  ) => {
    const controller = new AbortController()
    let iterator: AsyncIterator<unknown>
    try {
      const fn = method === "history" ? provider.history : provider.live
      if (!fn) throw new Error(`this module has no ${method} function`)
      iterator = fn(relay.contextFor(id, settings, controller.signal), request)[Symbol.asyncIterator]()
    } catch (e) {
      // Opening failed: the first Pull reports it, like any later failure.
      iterator = { next: () => Promise.reject(e) }
    }
    if (method === "history") {
      streams.set(id, { kind: "history", controller, iterator })
      return
    }
    const stream: LiveResources = { kind: "live", controller, iterator, buffer: new LiveBuffer() }
    streams.set(id, stream)
    void readLive(id, epoch, stream)
  }

  const pullPage = (id: number, epoch: number, stream: PageResources) => {
    const next = stream.ahead ?? askNext(stream)
    stream.ahead = undefined
    next.then(
      (result) =>
        dispatch({
          _tag: "PageSettled",
          id,
          epoch,
          outcome:
            typeof result !== "object" || result === null
              ? { _tag: "NonObject" }
              : result.done
                ? { _tag: "Done" }
                : { _tag: "Value", value: result.value }
        }),
      (error) => dispatch({ _tag: "PageSettled", id, epoch, outcome: { _tag: "Threw", error } })
    )
  }

  const perform = (output: RunnerOutput): void => {
    const { id } = output
    switch (output._tag) {
      case "StartCall": {
        const controller = new AbortController()
        calls.set(id, controller)
        attempt(() => provider.listAssets(relay.contextFor(id, output.settings, controller.signal))).then(
          (value) => {
            calls.delete(id)
            dispatch({ _tag: "CallSettled", id, outcome: { ok: true, value } })
          },
          (error) => {
            calls.delete(id)
            dispatch({ _tag: "CallSettled", id, outcome: { ok: false, error } })
          }
        )
        return
      }
      case "AbortCall":
        calls.get(id)?.abort()
        calls.delete(id)
        return
      case "StartStream":
        startStream(id, output.epoch, output.method, output.settings, output.request)
        return
      case "PullPage": {
        const stream = streams.get(id)
        if (stream?.kind === "history") pullPage(id, output.epoch, stream)
        return
      }
      case "AskAhead": {
        const stream = streams.get(id)
        if (stream?.kind === "history") stream.ahead = askNext(stream)
        return
      }
      case "SendResult":
        answer({ _tag: "Result", id, value: output.value })
        return
      case "SendPage": {
        const packed = packPage(output.value)
        answer(packed ? { _tag: "Item", id, ...packed } : { _tag: "Item", id, value: output.value })
        return
      }
      case "SendItems": {
        const stream = streams.get(id)
        if (stream?.kind !== "live") return
        answer({ _tag: "Items", id, ...packEvents(stream.buffer.take()) })
        stream.resume?.()
        stream.resume = undefined
        return
      }
      case "ScheduleDelivery":
        setImmediate(() => dispatch({ _tag: "Delivery", id, epoch: output.epoch }))
        return
      case "SendDone":
        post({ _tag: "Done", id })
        return
      case "SendFailed":
        post({ _tag: "Failed", id, error: thrown(output.error) })
        return
      case "SendNoStream":
        post({ _tag: "Failed", id, error: { name: "Error", message: `no open stream ${id}` } })
        return
      case "SendCancelled":
        post({ _tag: "Cancelled", id })
        return
      case "Finish":
        streams.get(id)?.controller.abort()
        streams.delete(id)
        return
      case "CloseStream": {
        const stream = streams.get(id)
        if (!stream) return
        streams.delete(id)
        stream.controller.abort()
        if (stream.kind === "live") stream.resume?.()
        // Lets the generator run its `finally` blocks; not awaited, it may be parked in an await.
        attempt(() => stream.iterator.return?.()).catch(() => undefined)
        return
      }
    }
  }

  process.on("message", (raw) => {
    const message = raw as HostMessage
    switch (message._tag) {
      case "Call":
        return dispatch({ _tag: "Call", id: message.id, settings: message.settings })
      case "Open":
        return dispatch({
          _tag: "Open",
          id: message.id,
          method: message.method,
          settings: message.settings,
          request: message.request
        })
      case "Pull":
        return dispatch({ _tag: "Pull", id: message.id })
      case "Cancel":
        return dispatch({ _tag: "Cancel", id: message.id })
      case "Ping":
        return void post({ _tag: "Pong", id: message.id })
      default:
        relay.receive(message)
    }
  })
}

// After LoadFailed the host kills the child; it answers nothing meanwhile.
const provider = await load()
if (provider) serve(provider)
