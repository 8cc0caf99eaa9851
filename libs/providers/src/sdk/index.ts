/** The provider, broker and strategy SDK: everything a provider, broker or strategy module imports. */

export * from "./barValues"
export type * from "./broker"
export * from "./defineProvider"
export * from "./errors"
export * from "./orderRequest"
export * from "./sleep"
export * from "./strategy"
export * from "./strategyParams"
export type * from "./types"
