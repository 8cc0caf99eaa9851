/**
 * Seconds left for a run that has done `done` of `total` bar times in `elapsedMs`, at the rate it
 * has kept so far; null before the first bar time, when there is no rate yet.
 */
export const etaSeconds = (done: number, total: number, elapsedMs: number): number | null =>
  done <= 0 || total <= 0 ? null : Math.max(0, ((total - done) * elapsedMs) / done / 1000)
