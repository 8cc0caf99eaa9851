/**
 * Live streaming as one layer: the supervisor (connections, gap fills, writes) and the hub the
 * `/live` clients read from, shared with the other runners on the same database. Needs the SQL client, ChangeFeed, SchemaState and the BarWriter;
 * LiveSource, BarSource and LiveConfig are references (the app or a test provides them).
 */
import { Layer } from "effect"
import * as LiveFanout from "./LiveFanout"
import { LiveSupervisor } from "./LiveSupervisor"

export const LiveLive = LiveSupervisor.layer.pipe(Layer.provideMerge(LiveFanout.layer))
