/** Node-only pieces of the in-process host. */
export { connectWebSocket } from "./connectWebSocket"
