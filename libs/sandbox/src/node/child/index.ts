/**
 * What a runner (the program inside a sandbox child) takes from the library. Kept apart from
 * `./node`, whose modules start esbuild and read /proc: a runner is bundled from this alone.
 */
export { isChildInit } from "../../childInit"
export { packEvents, packPage } from "../../packedBars"
export * from "./childHardening"
export * from "./startRunner"
