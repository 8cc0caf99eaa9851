/** The provider SDK: everything a provider module imports. */
export * from "./defineProvider"
export * from "./errors"
export type * from "./types"
