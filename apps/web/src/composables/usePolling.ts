/**
 * Calls `tick` every `intervalMs` while `active()` holds and the tab is visible; stops with the
 * component. A tick never overlaps the previous one, so a slow server is not piled on.
 */
import { onBeforeUnmount, onMounted } from "vue"

export const usePolling = (tick: () => Promise<unknown>, intervalMs: () => number, active: () => boolean) => {
  let timer: ReturnType<typeof setTimeout> | undefined
  let stopped = false

  const schedule = () => {
    if (stopped) return
    timer = setTimeout(async () => {
      if (active() && document.visibilityState === "visible") await tick()
      schedule()
    }, intervalMs())
  }

  onMounted(schedule)
  onBeforeUnmount(() => {
    stopped = true
    clearTimeout(timer)
  })
}
