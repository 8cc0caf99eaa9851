/**
 * The host's end of one child: decodes every IPC message (a malformed one kills the child),
 * routes replies to the call waiting for them, enforces the output budget, and turns the child's
 * end into one reason that every waiter receives. Node callbacks complete Deferreds here; the
 * Effect API on top is in SandboxProcess.ts.
 */
import type { ChildProcess } from "node:child_process"
import { Deferred, Effect, Either, Exit, FiberId } from "effect"
import { boundedJson, exitReason, outputBudget, preview, stderrTail } from "./childWatch"
import { SandboxLoadError } from "./errors"
import {
  type ChildMessage,
  decodeChildMessage,
  type HostMessage,
  isRelayRequest,
  type RelayReply,
  type RelayRequest,
  type Reply
} from "./protocol"
import type { SandboxLimitValues } from "./SandboxLimits"

type Loaded = Extract<ChildMessage, { readonly _tag: "Loaded" }>
type Log = Extract<ChildMessage, { readonly _tag: "Log" }>

export interface Channel {
  readonly loaded: Deferred.Deferred<Loaded, SandboxLoadError>
  /** Completes with the reason once the child is gone (and its stdio drained). */
  readonly exited: Deferred.Deferred<string>
  /** Why the child is gone, or undefined while it runs. */
  readonly gone: () => string | undefined
  /** Kills the child; the first reason given is the one reported. */
  readonly kill: (reason: string) => void
  /** Sends `message` and waits for the child's reply to `id` (fails with the reason it died). */
  readonly exchange: (id: number, message: HostMessage) => Effect.Effect<Reply, string>
  readonly send: (message: HostMessage) => void
}

/** The host's end of the child's `ctx.fetch` and `ctx.connect` (see egress/). */
export interface Relay {
  readonly handle: (message: RelayRequest) => void
  /** The child is gone: everything it had open is closed. */
  readonly close: () => void
}

/** Every message costs at least this much of the output budget, so a flood of tiny ones counts. */
const MESSAGE_COST = 64

/** What a log message costs, counted no further than the whole budget (see boundedJson). */
const logSize = (log: Log, budget: number): number =>
  log.message.length + (log.fields ? boundedJson(log.fields, budget + 1).text.length : 0)

export const openChannel = (
  child: ChildProcess,
  token: string,
  limits: SandboxLimitValues,
  onLog: (log: Log) => void,
  onOutput: (stream: "stdout" | "stderr", text: string) => void,
  relayFor: (send: (reply: RelayReply) => void) => Relay
): Channel => {
  const loaded = Deferred.unsafeMake<Loaded, SandboxLoadError>(FiberId.none)
  const exited = Deferred.unsafeMake<string>(FiberId.none)
  const waiting = new Map<number, Deferred.Deferred<Reply, string>>()
  const spend = outputBudget(limits)
  const stderr = stderrTail()
  let loading = true
  let killedFor: string | undefined
  let goneFor: string | undefined

  const send = (message: HostMessage) => {
    if (goneFor !== undefined || !child.connected) return
    // Errors (channel closing under us) surface as the child's end; nothing to do here.
    child.send(message, () => undefined)
  }
  const relay = relayFor(send)

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
    const decoded = decodeChildMessage(raw)
    if (Either.isLeft(decoded)) return kill(`sent a malformed message: ${preview(raw)}`)
    const message = decoded.right
    if (isRelayRequest(message)) {
      if (message._tag === "FetchStart") charge(message.body?.byteLength ?? 0, "its requests")
      return relay.handle(message)
    }
    switch (message._tag) {
      case "Log":
        charge(logSize(message, limits.outputBytes), "its log")
        return onLog(message)
      case "Loaded":
      case "LoadFailed":
        if (!loading) return kill(`sent a malformed message: a second ${message._tag}`)
        if (message.token !== token) return kill(`sent a malformed message: a forged ${message._tag}`)
        loading = false
        if (message._tag === "Loaded") Deferred.unsafeDone(loaded, Exit.succeed(message))
        else {
          Deferred.unsafeDone(
            loaded,
            Exit.fail(
              new SandboxLoadError({ problems: message.problems, ...(message.at ? { at: message.at } : {}) })
            )
          )
          kill("stopped after failing to load")
        }
        return
      default: {
        const d = waiting.get(message.id)
        // A late answer to a call that was cancelled or timed out has nobody waiting: dropped.
        if (d) Deferred.unsafeDone(d, Exit.succeed(message))
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

  const exchange = (id: number, message: HostMessage): Effect.Effect<Reply, string> =>
    Effect.suspend(() => {
      if (goneFor !== undefined) return Effect.fail(goneFor)
      const d = Deferred.unsafeMake<Reply, string>(FiberId.none)
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
