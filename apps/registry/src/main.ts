import { runService } from "@quasar/server/node"
import { AppLive } from "./App"

runService({ name: "registry", portVariable: "REGISTRY_PORT", defaultPort: 8080, app: () => AppLive })
