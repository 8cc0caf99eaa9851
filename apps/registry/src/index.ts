export { RegistryLive } from "./App"
