import { runService } from "@quasar/server/node"
import { DataHubLive } from "./App"

runService({ name: "datahub", portVariable: "DATAHUB_PORT", defaultPort: 8081, app: () => DataHubLive })
