/**
 * Historical collection as one layer: the subscriptions service the API uses and the scheduler
 * behind it. Needs the SQL client, ChangeFeed, SchemaState and a BarSink (the store's writer,
 * adapted in App.ts) and a BarSource. CollectionConfig is a reference: its defaults apply unless
 * a test provides other tunables.
 */
import { Layer } from "effect"
import { GapRepo } from "./GapRepo"
import { Scheduler } from "./Scheduler"
import { SubscriptionRepo } from "./SubscriptionRepo"
import { Subscriptions } from "./Subscriptions"

export const CollectionLive = Subscriptions.layer.pipe(
  Layer.provideMerge(Scheduler.layer),
  Layer.provideMerge(Layer.mergeAll(SubscriptionRepo.layer, GapRepo.layer))
)
