/**
 * The bars API's paging cursor. Opaque to clients: it holds the open time of the last bar served
 * (of a resampled page, the open of its last bucket), so the next page starts after it.
 */

export const encodeCursor = (ms: number): string => Buffer.from(`t${ms}`).toString("base64url")

/** The open time a cursor holds, or undefined when this API did not issue it. */
export const decodeCursor = (cursor: string): number | undefined => {
  const match = /^t(-?\d{1,16})$/.exec(Buffer.from(cursor, "base64url").toString("latin1"))
  const ms = match ? Number(match[1]) : Number.NaN
  // Only instants a Date can hold: the cursor becomes a bound of the next query.
  return Math.abs(ms) <= 8.64e15 ? ms : undefined
}
