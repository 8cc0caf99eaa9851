/**
 * One sandbox serves many calls (a backfill, a live stream, an asset listing), so a line the
 * child logs belongs to the call whose `ctx.log` wrote it, not to whichever call started the
 * child. The host keeps each open call's log annotations and span by call id (protocol.ts) and
 * logs the child's lines in that context; lines outside any call get the sandbox's own.
 */
import { logAtLevel } from "@quasar/sandbox"
import { Effect, FiberRef, type HashMap, Option, Runtime, type Scope, type Tracer } from "effect"
import type { ChildMessage } from "./protocol"

type Log = Extract<ChildMessage, { readonly _tag: "Log" }>

interface CallContext {
  readonly annotations: HashMap.HashMap<string, unknown>
  readonly span: Option.Option<Tracer.AnySpan>
}

export const makeCallContexts = (runtime: Runtime.Runtime<never>) => {
  const open = new Map<number, CallContext>()
  const runSync = Runtime.runSync(runtime)

  /** Until the scope closes, the child's lines naming call `id` get this fiber's context. */
  const enter = (id: number): Effect.Effect<void, never, Scope.Scope> =>
    Effect.acquireRelease(
      Effect.gen(function* () {
        const annotations = yield* FiberRef.get(FiberRef.currentLogAnnotations)
        const span = yield* Effect.option(Effect.currentSpan)
        open.set(id, { annotations, span })
      }),
      () => Effect.sync(() => open.delete(id))
    )

  /** Runs `self` as call `id` (see `enter`). */
  const within =
    (id: number) =>
    <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, Exclude<R, Scope.Scope>> =>
      Effect.scoped(Effect.zipRight(enter(id), self))

  /**
   * Logs a child's line in its call's context, with `annotations` on top; false when the line
   * names no open call (the caller logs it in the sandbox's own context).
   */
  const log = (line: Log, message: string, annotations: Record<string, unknown>): boolean => {
    const call = line.call === undefined ? undefined : open.get(line.call)
    if (!call) return false
    const logged = logAtLevel[line.level](message).pipe(
      Effect.annotateLogs(annotations),
      Effect.locally(FiberRef.currentLogAnnotations, call.annotations)
    )
    runSync(
      Option.match(call.span, { onNone: () => logged, onSome: (span) => Effect.withParentSpan(logged, span) })
    )
    return true
  }

  return { enter, within, log } as const
}
