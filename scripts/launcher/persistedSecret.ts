/**
 * Secrets for a local install that nobody has to choose: the value of the environment variable
 * if set, else one generated on the first start (32 random bytes, base64url) and kept owner-only
 * in the data directory, so that restarts, scripts and bookmarks keep working with the same
 * value. Used for the write token (QUASAR_ADMIN_TOKEN), the credential the services send each
 * other (QUASAR_SERVICE_TOKEN) and the key that encrypts provider secrets at rest
 * (QUASAR_SECRET_KEY: losing it would make stored secrets unreadable).
 */
import { randomBytes } from "node:crypto"
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Option } from "effect"
import { LauncherError } from "./LauncherError"

export interface PersistedSecret {
  readonly value: string
  /** Where it came from, for the banner. */
  readonly source: "environment" | "generated" | "file"
  readonly file: string
}

/** What a kept value must look like to be reused; anything else is replaced by a new one. */
const wellFormed = (value: string, minLength: number) =>
  value.length >= minLength && /^[A-Za-z0-9_-]+$/.test(value)

const readExisting = (file: string, minLength: number): string | null => {
  try {
    const value = readFileSync(file, "utf8").trim()
    return wellFormed(value, minLength) ? value : null
  } catch {
    return null
  }
}

export const resolve = (dataDir: string, fileName: string, fromEnv: Option.Option<string>, minLength = 16) =>
  Effect.try({
    try: (): PersistedSecret => {
      const file = join(dataDir, fileName)
      if (Option.isSome(fromEnv)) return { value: fromEnv.value, source: "environment", file }
      const existing = readExisting(file, minLength)
      if (existing !== null) {
        // A copy or an older tool may have left it readable by others.
        chmodSync(file, 0o600)
        return { value: existing, source: "file", file }
      }
      mkdirSync(dataDir, { recursive: true })
      const value = randomBytes(32).toString("base64url")
      // `mode` only applies when the file is created, hence the chmod when replacing a bad file.
      writeFileSync(file, `${value}\n`, { mode: 0o600 })
      chmodSync(file, 0o600)
      return { value, source: "generated", file }
    },
    catch: (e) => new LauncherError({ message: `cannot keep ${fileName} in ${dataDir}: ${String(e)}` })
  })
