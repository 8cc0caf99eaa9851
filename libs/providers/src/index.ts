export * from "./sdk"
export * from "./builtins"
