/** What the edge tests share: DataHub on a fresh database, its port, and raw HTTP requests. */
import { SchemaState } from "@quasar/server"
import { RawHttp } from "@quasar/server/testing"
import { Effect } from "effect"

export const ready = Effect.flatMap(SchemaState.SchemaState, (s) => s.ready)

export const { announcingHugeBody, port, raw } = RawHttp
