export { AppLive } from "./App"
