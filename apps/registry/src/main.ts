import { runService } from "@quasar/server/node"
import { makeApp } from "./App"
import * as BundledBuiltins from "./node/bundleBuiltins"

runService({
  name: "registry",
  portVariable: "REGISTRY_PORT",
  defaultPort: 8080,
  app: () => makeApp(BundledBuiltins.layer)
})
