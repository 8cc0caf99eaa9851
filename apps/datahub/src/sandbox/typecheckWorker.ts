/**
 * The type-check worker thread: answers `{ id, source }` with `{ id, issues }` (or `{ id,
 * failure }`). Bundled to CommonJS and started with `eval: true` (see TypeChecker.ts), so it
 * loads the compiler with `require` from the absolute path DataHub resolved for it.
 */
import { parentPort, workerData } from "node:worker_threads"
import type ts from "typescript"
import { makeTypeChecker } from "./typecheck"

interface Setup {
  readonly typescript: string
  readonly sdkSpecifier: string
  readonly sdkEntry: string
}

const setup = workerData as Setup
const compiler = require(setup.typescript) as typeof ts
const check = makeTypeChecker(compiler, setup.sdkSpecifier, setup.sdkEntry)

parentPort?.on("message", (request: { readonly id: number; readonly source: string }) => {
  try {
    parentPort?.postMessage({ id: request.id, issues: check(request.source) })
  } catch (e) {
    parentPort?.postMessage({ id: request.id, failure: e instanceof Error ? e.message : String(e) })
  }
})
