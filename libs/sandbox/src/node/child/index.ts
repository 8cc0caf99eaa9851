/**
 * What a runner (the program inside a sandbox child) takes from the library. Kept apart from
 * `./node`, whose modules start esbuild and read /proc: a runner is bundled from this alone.
 */
export { isChildInit } from "../../childInit"
export { makeChildFetch } from "../../egress/childFetch"
export { makeSocketConnector } from "../../egress/webSocketConnection"
export { packEvents, packPage } from "../../packedBars"
export * from "./childContexts"
export * from "./childHardening"
export * from "./childLogger"
export * from "./startRunner"
