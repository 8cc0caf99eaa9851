import { runService } from "@quasar/server/node"
import { TraderLive } from "./App"

runService({ name: "trader", portVariable: "QUASAR_TRADER_PORT", defaultPort: 8082, app: () => TraderLive })
