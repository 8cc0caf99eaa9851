import { runService } from "@quasar/server/node"
import { AppLive } from "./App"

runService({ name: "datahub", portVariable: "DATAHUB_PORT", defaultPort: 8081, app: () => AppLive })
