/**
 * A runtime without the caller's log annotations and span: what a sandbox logs on its own
 * (load time, stderr, denials) must not look like part of the call that happened to start it.
 */
import { Context, Effect, FiberRef, HashMap, Tracer } from "effect"

export const neutral = <A, E>(self: Effect.Effect<A, E>): Effect.Effect<A, E> =>
  self.pipe(
    Effect.locally(FiberRef.currentLogAnnotations, HashMap.empty()),
    Effect.mapInputContext((context: Context.Context<never>) => Context.omit(Tracer.ParentSpan)(context))
  )
