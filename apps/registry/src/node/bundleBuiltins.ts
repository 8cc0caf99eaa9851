/** The built-in providers and brokers, bundled with esbuild: the Registry registers them at start. */
import { bundleBuiltins } from "@quasar/providers/node"
import { Layer } from "effect"
import { BuiltinSources } from "../BuiltinSources"

export const layer = Layer.succeed(BuiltinSources, { load: bundleBuiltins })
