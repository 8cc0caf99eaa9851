/**
 * The host's end of one child: decodes every IPC message with the app's schema (a malformed one
 * kills the child), routes replies to the call waiting for them, enforces the output budget, and
 * turns the child's end into one reason that every waiter receives. Node callbacks complete
 * Deferreds here; the Effect API on top is in SandboxProcess.ts.
 */
import type { ChildProcess } from "node:child_process"
import { Deferred, Effect, Either, Exit, FiberId } from "effect"
import { SandboxLoadError } from "../errors"
import type {
  ChildMessageBase,
  ControlMessage,
  LoadedBase,
  LoadedOf,
  LoadFailed,
  Log,
  ReplyOf
} from "../protocol"
import type { SandboxLimitValues } from "../SandboxLimits"
import { boundedJson, exitReason, outputBudget, preview, stderrTail } from "./childWatch"

export interface Channel<M extends ChildMessageBase, H extends object> {
  readonly loaded: Deferred.Deferred<LoadedOf<M>, SandboxLoadError>
  /** Completes with the reason once the child is gone (and its stdio drained). */
  readonly exited: Deferred.Deferred<string>
  /** Why the child is gone, or undefined while it runs. */
  readonly gone: () => string | undefined
  /** Kills the child; the first reason given is the one reported. */
  readonly kill: (reason: string) => void
  /** Sends `message` and waits for the child's reply to `id` (fails with the reason it died). */
  readonly exchange: (id: number, message: H | ControlMessage) => Effect.Effect<ReplyOf<M>, string>
  readonly send: (message: H | ControlMessage) => void
}

/**
 * The app's messages that are not replies to a call: DataHub relays a provider's `ctx.fetch` and
 * `ctx.connect`, Trader reads a backtest's progress. A sandbox without one takes no such message:
 * a child that sends a message that is neither a verdict, a log line nor a reply is killed.
 */
export interface Relay<M> {
  /** Whether `message` is one of the relay's. */
  readonly accepts: (message: M) => boolean
  readonly handle: (message: M) => void
  /** Bytes the message costs beyond MESSAGE_COST (a request body, say). */
  readonly cost: (message: M) => number
  /** The child is gone: everything it had open is closed. */
  readonly close: () => void
}

/** How the channel reads the app's messages and serves the child. */
export interface ChannelOptions<M extends ChildMessageBase, H extends object> {
  readonly decode: (raw: unknown) => Either.Either<M, unknown>
  readonly onLog: (log: Log) => void
  readonly onOutput: (stream: "stdout" | "stderr", text: string) => void
  readonly relay?: ((send: (message: H) => void) => Relay<M>) | undefined
}

const noRelay: Relay<unknown> = {
  accepts: () => false,
  handle: () => undefined,
  cost: () => 0,
  close: () => undefined
}

const hasId = (message: object): boolean => typeof (message as { id?: unknown }).id === "number"

/** Every message costs at least this much of the output budget, so a flood of tiny ones counts. */
const MESSAGE_COST = 64

/** What a log message costs, counted no further than the whole budget (see boundedJson). */
const logSize = (log: Log, budget: number): number =>
  log.message.length + (log.fields ? boundedJson(log.fields, budget + 1).text.length : 0)

export const openChannel = <M extends ChildMessageBase, H extends object>(
  child: ChildProcess,
  token: string,
  limits: SandboxLimitValues,
  options: ChannelOptions<M, H>
): Channel<M, H> => {
  const { decode, onLog, onOutput } = options
  const loaded = Deferred.unsafeMake<LoadedOf<M>, SandboxLoadError>(FiberId.none)
  const exited = Deferred.unsafeMake<string>(FiberId.none)
  const waiting = new Map<number, Deferred.Deferred<ReplyOf<M>, string>>()
  const spend = outputBudget(limits)
  const stderr = stderrTail()
  let loading = true
  let killedFor: string | undefined
  let goneFor: string | undefined

  const send = (message: H | ControlMessage) => {
    if (goneFor !== undefined || !child.connected) return
    // Errors (channel closing under us) surface as the child's end; nothing to do here.
    child.send(message, () => undefined)
  }
  const relay: Relay<M> = options.relay ? options.relay(send) : noRelay

  const kill = (reason: string) => {
    if (goneFor !== undefined || killedFor !== undefined) return
    killedFor = reason
    child.kill("SIGKILL")
  }

  const ended = (reason: string) => {
    if (goneFor !== undefined) return
    goneFor = reason
    Deferred.unsafeDone(loaded, Exit.fail(new SandboxLoadError({ problems: [`the module ${reason}`] })))
    for (const d of waiting.values()) Deferred.unsafeDone(d, Exit.fail(reason))
    waiting.clear()
    Deferred.unsafeDone(exited, Exit.succeed(reason))
    relay.close()
  }

  const charge = (bytes: number, what: string) => {
    const flood = spend(bytes, what)
    if (flood) kill(flood)
  }

  for (const name of ["stdout", "stderr"] as const)
    child[name]?.setEncoding("utf8").on("data", (text: string) => {
      if (name === "stderr") stderr.push(text)
      charge(Buffer.byteLength(text), name)
      if (killedFor === undefined) onOutput(name, text)
    })

  child.on("message", (raw: unknown) => {
    if (goneFor !== undefined || killedFor !== undefined) return
    charge(MESSAGE_COST, "the IPC channel")
    const decoded = decode(raw)
    if (Either.isLeft(decoded)) return kill(`sent a malformed message: ${preview(raw)}`)
    const message = decoded.right
    if (relay.accepts(message)) {
      charge(relay.cost(message), "its requests")
      return relay.handle(message)
    }
    switch (message._tag) {
      case "Log": {
        const log = message as unknown as Log
        charge(logSize(log, limits.outputBytes), "its log")
        return onLog(log)
      }
      case "Loaded":
      case "LoadFailed": {
        const verdict = message as unknown as LoadedBase | LoadFailed
        if (!loading) return kill(`sent a malformed message: a second ${message._tag}`)
        if (verdict.token !== token) return kill(`sent a malformed message: a forged ${message._tag}`)
        loading = false
        if (verdict._tag === "LoadFailed") {
          Deferred.unsafeDone(
            loaded,
            Exit.fail(
              new SandboxLoadError({ problems: verdict.problems, ...(verdict.at ? { at: verdict.at } : {}) })
            )
          )
          kill("stopped after failing to load")
        } else Deferred.unsafeDone(loaded, Exit.succeed(message as unknown as LoadedOf<M>))
        return
      }
      default: {
        if (!hasId(message)) return kill(`sent a message it may not send: ${message._tag}`)
        const reply = message as ReplyOf<M>
        const d = waiting.get(reply.id)
        // A late answer to a call that was cancelled or timed out has nobody waiting: dropped.
        if (d) Deferred.unsafeDone(d, Exit.succeed(reply))
      }
    }
  })

  // Also emitted when the spawn itself fails (e.g. EAGAIN): then no "close" follows.
  child.on("error", (e) => {
    if (child.pid === undefined) ended(`could not be started: ${e.message}`)
  })
  // "close" comes after stdio is drained, so V8's out-of-memory banner is in the tail by then.
  child.on("close", (code, signal) => {
    ended(killedFor ?? exitReason(code, signal, loading, stderr.text, limits))
  })

  const exchange = (id: number, message: H | ControlMessage): Effect.Effect<ReplyOf<M>, string> =>
    Effect.suspend(() => {
      if (goneFor !== undefined) return Effect.fail(goneFor)
      const d = Deferred.unsafeMake<ReplyOf<M>, string>(FiberId.none)
      waiting.set(id, d)
      send(message)
      return Deferred.await(d).pipe(
        Effect.ensuring(
          Effect.sync(() => {
            if (waiting.get(id) === d) waiting.delete(id)
          })
        )
      )
    })

  return { loaded, exited, gone: () => goneFor, kill, exchange, send }
}
