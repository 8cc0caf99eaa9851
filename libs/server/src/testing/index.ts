export * as ProxiedDatabase from "./ProxiedDatabase"
export * as TcpProxy from "./TcpProxy"
export * as TestDatabase from "./TestDatabase"
export * as TestService from "./TestService"
