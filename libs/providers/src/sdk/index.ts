/** The provider and broker SDK: everything a provider or broker module imports. */
export type * from "./broker"
export * from "./defineProvider"
export * from "./errors"
export * from "./orderRequest"
export * from "./sleep"
export type * from "./types"
