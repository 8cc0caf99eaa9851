import type { BuiltinSource } from "@quasar/providers"
import { Context, Effect, Layer } from "effect"

export type { BuiltinSource }

/** Produces the sources of the built-in providers and brokers (bundling is platform-specific: see node/). */
export class BuiltinSources extends Context.Tag("@quasar/registry/BuiltinSources")<
  BuiltinSources,
  { readonly load: Effect.Effect<ReadonlyArray<BuiltinSource>, string> }
>() {
  /** No built-ins: for tests that want an empty registry. */
  static readonly none = Layer.succeed(BuiltinSources, { load: Effect.succeed([]) })
}
