/**
 * What the Providers and Strategies pages do to one code name's versions — activate, delete,
 * roll back — with the outcome shown by `useAction` and both the list and the detail reloaded
 * after each; and the calls behind them, for the detail composables.
 */
import { type CodeVersion, type ProviderName, rollbackTarget } from "@quasar/domain"
import { Either } from "effect"
import { computed, type Ref } from "vue"
import { useAction } from "./useAction"
import { type Outcome, registry } from "./useApi"

/** The Registry calls on the selected name's versions; `withName` throws when none is selected. */
export const versionCalls = (withName: <A>(call: (n: ProviderName) => Promise<A>) => Promise<A>) => ({
  activate: (version: number) =>
    withName((n) => registry((c) => c.code.activate({ path: { name: n, version } }))),
  remove: (version: number) =>
    withName((n) => registry((c) => c.code.deleteVersion({ path: { name: n, version } }))),
  rollback: () => withName((n) => registry((c) => c.code.rollback({ path: { name: n } })))
})

interface Detail extends ReturnType<typeof versionCalls> {
  readonly versions: Ref<ReadonlyArray<CodeVersion>>
  readonly reload: () => Promise<void>
}

export const useVersionActions = (
  detail: Detail,
  list: { readonly reload: () => Promise<void> },
  name: () => string | undefined
) => {
  const action = useAction()
  const act = async <A>(call: () => Promise<Outcome<A>>, success: (a: A) => string) => {
    const value = await action.run(call, success)
    await Promise.all([detail.reload(), list.reload()])
    return value
  }
  const activate = (version: number) =>
    act(
      () => detail.activate(version),
      (v) => `Version ${v.version} is active.`
    )
  const remove = (version: number) => {
    if (!window.confirm(`Delete version ${version} of ${name()}? This cannot be undone.`)) return
    return act(
      () => detail.remove(version),
      () => `Version ${version} deleted.`
    )
  }
  /** The version a rollback would activate, or why there is none (the button says so, disabled). */
  const rollbackTo = computed(() => rollbackTarget(detail.versions.value))
  const rollbackHint = computed(() =>
    Either.match(rollbackTo.value, {
      onLeft: (why) => `Nothing to roll back to: ${why}.`,
      onRight: (v) => `Activates version ${v.version} again.`
    })
  )
  const rollback = () => act(detail.rollback, (v) => `Rolled back: version ${v.version} is active.`)
  return { action, act, activate, remove, rollbackTo, rollbackHint, rollback }
}
