/**
 * Live streaming as one layer: the supervisor (connections, gap fills, writes) and the hub the
 * `/live` clients read from. Needs the SQL client, ChangeFeed, SchemaState and the BarWriter;
 * LiveSource, BarSource and LiveConfig are references (the app or a test provides them).
 */
import { Layer } from "effect"
import { LiveHub } from "./LiveHub"
import { LiveSupervisor } from "./LiveSupervisor"

export const LiveLive = LiveSupervisor.layer.pipe(Layer.provideMerge(LiveHub.layer))
