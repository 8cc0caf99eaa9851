export { DataHubLive } from "./App"
