export * from "./sdk"
