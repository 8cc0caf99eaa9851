import { NodeHttpClient, NodeSocket } from "@effect/platform-node"
import { runService } from "@quasar/server/node"
import { traderLive } from "./App"

runService({
  name: "trader",
  portVariable: "TRADER_PORT",
  defaultPort: 8082,
  app: () => traderLive(NodeSocket.layerWebSocketConstructor, NodeHttpClient.layerUndici)
})
