/**
 * The provider and broker list (strategies, the other code kind, have their own page), and
 * uploading new code (validated by DataHub's sandbox on upload).
 */
import type { CodeKind, CodeLanguage, CodeSummary as CodeSummarySchema, UploadResult } from "@quasar/domain"
import { ProviderName } from "@quasar/domain"
import { Effect, Either, Schema } from "effect"
import { computed, onMounted, ref } from "vue"
import { registry } from "./useApi"

export type CodeSummary = typeof CodeSummarySchema.Type
export type Uploaded = typeof UploadResult.Type

export interface UploadForm {
  readonly name: string
  readonly kind: CodeKind
  readonly language: CodeLanguage
  readonly source: string
}

/** A name the API accepts, or the reason it does not (shown next to the field). */
export const checkName = (name: string): Either.Either<ProviderName, string> =>
  Either.mapLeft(
    Schema.decodeUnknownEither(ProviderName)(name),
    () => "lower-case letters, digits, '-' or '_', starting with a letter (e.g. my-provider)"
  )

/** The `name: "..."` a module declares, to prefill the name field. */
export const declaredName = (source: string): string | null =>
  /\bname\s*:\s*["'`]([a-z][a-z0-9_-]{0,63})["'`]/.exec(source)?.[1] ?? null

export const useProviders = () => {
  const all = ref<ReadonlyArray<CodeSummary>>([])
  const providers = computed(() => all.value.filter((c) => c.kind !== "strategy"))
  const loading = ref(true)
  const error = ref<string | null>(null)

  const reload = async () => {
    const outcome = await registry((c) => c.code.list())
    loading.value = false
    if (outcome.ok) {
      all.value = outcome.value
      error.value = null
    } else error.value = outcome.failure.message
  }

  const upload = (form: UploadForm) =>
    registry((c) =>
      Effect.flatMap(Schema.decodeUnknown(ProviderName)(form.name), (name) =>
        c.code.upload({
          path: { name },
          payload: { kind: form.kind, language: form.language, source: form.source }
        })
      )
    )

  onMounted(reload)
  return { all, providers, loading, error, reload, upload }
}
