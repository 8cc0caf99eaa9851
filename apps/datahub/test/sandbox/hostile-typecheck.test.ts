/**
 * The TypeScript checker runs inside DataHub, so an upload must not reach the host through it:
 * it reads no file but the lib and SDK ones, and it runs under a heap cap and a timeout whose
 * breach is the upload's issue, after which the checker still answers.
 */
import { readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"
import { describe, expect, layer } from "@effect/vitest"
import { SandboxLimits } from "@quasar/sandbox"
import { Effect, Layer } from "effect"
import { TypeChecker } from "../../src/sandbox/TypeChecker"
import { validTs } from "./fixtures/modules"

const checker = (limits: Parameters<typeof SandboxLimits.layer>[0] = {}) =>
  TypeChecker.layer.pipe(Layer.provide(SandboxLimits.layer(limits)))

/** Real TypeScript files on the host, which the checker would parse if it read host files. */
const hostSource = fileURLToPath(new URL("../../src/App.ts", import.meta.url))
const hostTypes = createRequire(import.meta.url).resolve("@types/node/fs.d.ts")

const text = (issues: ReadonlyArray<{ readonly message: string }>) => issues.map((i) => i.message).join("\n")

/** Words of a host file that would show in diagnostics if the checker parsed it. */
const wordsOf = (path: string) =>
  [...new Set(readFileSync(path, "utf8").match(/[A-Za-z_][A-Za-z0-9_]{3,}/g) ?? [])].slice(0, 50)

describe("the type checker", () => {
  layer(checker(), { timeout: 90_000 })("reads", (it) => {
    it.effect("files an upload names are not found, whatever way it names them", () =>
      Effect.gen(function* () {
        const { check } = yield* TypeChecker
        const upload = `/// <reference path="/etc/passwd" />
/// <reference path="${hostSource}" />
/// <reference path="${hostTypes}" />
/// <reference path="../../etc/hostname" />
/// <reference types="node" />
import hostname from "/etc/hostname"
import passwd from "../../../../etc/passwd"
import type { Pool } from "pg"
export const leak = [hostname, passwd] as const
export type P = Pool
${validTs}`
        const issues = yield* check(upload)
        const all = text(issues)
        expect(all).toContain("Could not resolve the path '/etc/passwd'")
        expect(all).toContain(`File '${hostSource}' not found`)
        expect(all).toContain(`File '${hostTypes}' not found`)
        expect(all).toContain("Cannot find module '/etc/hostname'")
        expect(all).toContain("Cannot find module 'pg'")
        expect(all).toContain("Cannot find type definition file for 'node'")
        for (const word of [...wordsOf("/etc/passwd"), ...wordsOf("/etc/hostname")])
          expect(all).not.toMatch(new RegExp(`\\b${word}\\b`))
      })
    )

    it.effect("the SDK's own types still check", () =>
      Effect.gen(function* () {
        const { check } = yield* TypeChecker
        expect(yield* check(validTs)).toEqual([])
      })
    )
  })

  layer(checker({ checkerHeapMb: 24 }), { timeout: 90_000 })("memory", (it) => {
    it.effect("a check past the heap cap is the upload's issue, and the next check is answered", () =>
      Effect.gen(function* () {
        const { check } = yield* TypeChecker
        for (let i = 0; i < 2; i++)
          expect(text(yield* check(validTs))).toBe(
            "type-checking ran out of memory (24 MB): simplify the types (deeply recursive or huge unions)"
          )
      })
    )
  })
})
