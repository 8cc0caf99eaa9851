/** A copy of `source` that follows it once it has been still for `ms` (typing in a search box). */
import { onBeforeUnmount, type Ref, ref, watch } from "vue"

export const useDebounced = <A>(source: Ref<A>, ms: number): Ref<A> => {
  const value = ref(source.value) as Ref<A>
  let timer: ReturnType<typeof setTimeout> | undefined
  watch(source, (next) => {
    clearTimeout(timer)
    timer = setTimeout(() => {
      value.value = next
    }, ms)
  })
  onBeforeUnmount(() => clearTimeout(timer))
  return value
}
