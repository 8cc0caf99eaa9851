/**
 * The embedded database's password and the permissions of its files. The password is generated
 * on the first start and kept in the data directory, readable by its owner only: the services run
 * under the same account and read it from there. Nothing under the data directory is writable by
 * others, and the directories themselves are closed to them.
 */
import { randomBytes } from "node:crypto"
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  type Stats,
  writeFileSync
} from "node:fs"
import { join, resolve } from "node:path"

export const passwordFile = (dataDir: string) => resolve(dataDir, "embedded-db.password")

const WELL_FORMED = /^[A-Za-z0-9_-]{32,}$/

/** The kept password, or null if there is none (yet) or it is not one this module would write. */
export const readPassword = (dataDir: string): string | null => {
  try {
    const value = readFileSync(passwordFile(dataDir), "utf8").trim()
    return WELL_FORMED.test(value) ? value : null
  } catch {
    return null
  }
}

/** The kept password, generated (32 random bytes, base64url: 43 characters) if there is none. */
export const ensurePassword = (dataDir: string): string => {
  mkdirSync(resolve(dataDir), { recursive: true, mode: 0o700 })
  const file = passwordFile(dataDir)
  const existing = readPassword(dataDir)
  if (existing !== null) {
    chmodSync(file, 0o600)
    return existing
  }
  const value = randomBytes(32).toString("base64url")
  // `mode` applies only when the file is created; the chmod covers replacing a damaged one.
  writeFileSync(file, `${value}\n`, { mode: 0o600 })
  chmodSync(file, 0o600)
  return value
}

/**
 * Closes `dir` and every directory below it to other users (0700) and takes every permission
 * for group and others off the files, as PostgreSQL keeps its own data directory.
 */
export const harden = (dir: string): void => {
  const walk = (path: string, top: boolean) => {
    let stat: Stats
    try {
      stat = lstatSync(path)
    } catch (e) {
      // PGlite removes files (old WAL segments) while it runs; a file gone is not a problem.
      if ((e as NodeJS.ErrnoException).code === "ENOENT" && !top) return
      throw e
    }
    if (stat.isSymbolicLink()) return
    if (stat.isDirectory()) {
      if (top || (stat.mode & 0o077) !== 0) chmodSync(path, 0o700)
      for (const entry of readdirSync(path)) walk(join(path, entry), false)
    } else if ((stat.mode & 0o077) !== 0) {
      chmodSync(path, stat.mode & 0o700)
    }
  }
  walk(resolve(dir), true)
}
