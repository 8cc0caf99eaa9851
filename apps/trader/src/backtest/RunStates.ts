/**
 * What the run manager knows of the runs this process holds, in memory: progress, when each got
 * its slot, when its progress last reached the database, and whether a cancel is under way.
 * Reads see progress from here; the database gets it at most every so often.
 */
import type { BacktestId } from "@quasar/domain"
import { Effect, HashMap, Option, Ref } from "effect"
import type { Progress } from "../engine/runBacktest"
import type { Live } from "./BacktestsRepo"
import { etaSeconds } from "./eta"

export interface RunState {
  readonly done: number
  readonly total: number
  /** When it got its slot; null while queued. */
  readonly startedAt: number | null
  /** When its progress last reached the database. */
  readonly savedAt: number
  readonly cancelling: boolean
}

export const makeRunStates = Effect.map(Ref.make(HashMap.empty<BacktestId, RunState>()), (runs) => {
  const update = (id: BacktestId, f: (s: RunState) => RunState) =>
    Ref.update(runs, (map) => HashMap.modify(map, id, f))
  return {
    add: (id: BacktestId, state: RunState) => Ref.update(runs, HashMap.set(id, state)),
    remove: (id: BacktestId) => Ref.update(runs, HashMap.remove(id)),
    get: (id: BacktestId) => Effect.map(Ref.get(runs), HashMap.get(id)),
    size: Effect.map(Ref.get(runs), HashMap.size),
    update,
    /** Each held run's progress at `t`, with its ETA. */
    snapshot: (t: number) =>
      Effect.map(
        Ref.get(runs),
        (map) =>
          (id: BacktestId): Option.Option<Live> =>
            Option.map(HashMap.get(map, id), (s) => ({
              done: s.done,
              total: s.total,
              etaSeconds: s.startedAt === null ? null : etaSeconds(s.done, s.total, t - s.startedAt)
            }))
      ),
    /** Records progress at `t`; true (and counted as written) when the last write is `everyMs` old. */
    progress: (id: BacktestId, progress: Progress, t: number, everyMs: number) =>
      Ref.modify(runs, (map): readonly [boolean, HashMap.HashMap<BacktestId, RunState>] =>
        Option.match(HashMap.get(map, id), {
          onNone: () => [false, map],
          onSome: (s) => {
            const due = t - s.savedAt >= everyMs
            return [
              due,
              HashMap.set(map, id, {
                ...s,
                done: progress.done,
                total: progress.total,
                savedAt: due ? t : s.savedAt
              })
            ]
          }
        })
      )
  }
})
