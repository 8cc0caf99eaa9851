/** The EODHD provider module: its default export is the provider. */
export { default } from "./provider"
