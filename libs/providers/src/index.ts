export * from "./builtins"
export * from "./sdk"
