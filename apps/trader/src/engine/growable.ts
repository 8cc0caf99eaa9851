/** A new array of `size` holding the first `length` values of `values` (the rest zero). */
export const grown = (values: Float64Array, length: number, size: number): Float64Array<ArrayBuffer> => {
  const out = new Float64Array(size)
  out.set(values.subarray(0, length))
  return out
}

/** `values` if it has room for `need` values, else a copy of its first `length` with room for twice as many. */
export const withRoom = (
  values: Float64Array<ArrayBuffer>,
  length: number,
  need: number
): Float64Array<ArrayBuffer> =>
  need <= values.length ? values : grown(values, length, Math.max(need, 2 * values.length))
