import { Context, Effect, Layer } from "effect"

export interface BuiltinSource {
  readonly name: string
  /** One ES module whose only import is the provider SDK. */
  readonly source: string
}

/** Produces the sources of the built-in providers (bundling is platform-specific: see node/). */
export class BuiltinSources extends Context.Tag("@quasar/registry/BuiltinSources")<
  BuiltinSources,
  { readonly load: Effect.Effect<ReadonlyArray<BuiltinSource>, string> }
>() {
  /** No built-ins: for tests that want an empty registry. */
  static readonly none = Layer.succeed(BuiltinSources, { load: Effect.succeed([]) })
}
