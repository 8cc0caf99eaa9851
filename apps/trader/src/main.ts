import { runService } from "@quasar/server/node"
import { TraderLive } from "./App"

runService({ name: "trader", portVariable: "TRADER_PORT", defaultPort: 8082, app: () => TraderLive })
