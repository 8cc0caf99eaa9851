import { describe, expect, it } from "@effect/vitest"
import { DateTime, Either } from "effect"
import { type CodeStatus, CodeVersion, rollbackTarget } from "../src/CodeVersion"
import { ProviderName } from "../src/Common"

const version = (n: number, status: CodeStatus) =>
  CodeVersion.make({
    name: ProviderName.make("acme"),
    kind: "provider",
    language: "javascript",
    version: n,
    sha256: "0".repeat(64),
    size: 1,
    manifest: null,
    status,
    validation: null,
    builtIn: false,
    createdAt: DateTime.unsafeMake(0)
  })

const target = (...statuses: ReadonlyArray<CodeStatus>) =>
  Either.map(rollbackTarget(statuses.map((s, i) => version(i + 1, s))), (v) => v.version)

describe("rollbackTarget", () => {
  it("is the newest valid version older than the current one, in any order given", () => {
    expect(target("valid", "valid", "invalid", "active")).toEqual(Either.right(2))
    expect(target("valid", "disabled", "valid")).toEqual(Either.right(1))
    const shuffled = [version(2, "valid"), version(4, "active"), version(1, "valid"), version(3, "invalid")]
    expect(Either.map(rollbackTarget(shuffled), (v) => v.version)).toEqual(Either.right(2))
  })

  it("says why there is nothing to roll back to", () => {
    expect(target("valid", "valid")).toEqual(Either.left("there is no active version to roll back from"))
    expect(target("invalid", "active", "valid")).toEqual(
      Either.left("there is no valid version older than version 2 to roll back to")
    )
    expect(target("active")).toEqual(
      Either.left("there is no valid version older than version 1 to roll back to")
    )
  })
})
