export * from "./engine/index"
