/** Node-only tools around the built-ins: bundling them into the single modules that are uploaded. */
export { bundleBuiltins } from "./bundleBuiltins"
