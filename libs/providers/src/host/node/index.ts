/** Node-only pieces of the host (Node 20 has no global WebSocket). */
export { connectWebSocket } from "./connectWebSocket"
