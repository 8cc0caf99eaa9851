/**
 * The upload form's state: name (prefilled from the module's declared name), kind, language
 * (from the file extension), the source from a file or the editor, and the result: the version
 * created and its validation report, or the server's reason for refusing it.
 */
import type { CodeKind, CodeLanguage } from "@quasar/domain"
import { Either } from "effect"
import { computed, ref, watch } from "vue"
import { useAction } from "./useAction"
import { checkName, declaredName, type Uploaded, type useProviders } from "./useProviders"

const MAX_BYTES = 1_048_576

export const useCodeUpload = (
  upload: ReturnType<typeof useProviders>["upload"],
  initial: { readonly kind: CodeKind; readonly language: CodeLanguage } = {
    kind: "provider",
    language: "javascript"
  }
) => {
  const name = ref("")
  const kind = ref<CodeKind>(initial.kind)
  const language = ref<CodeLanguage>(initial.language)
  const source = ref("")
  const fileName = ref<string | null>(null)
  const result = ref<Uploaded | null>(null)
  /** The source as uploaded, so report line numbers point at what was sent. */
  const uploadedSource = ref("")
  const action = useAction()
  let nameTouched = false

  watch(source, (text) => {
    const declared = declaredName(text)
    if (!nameTouched && declared) name.value = declared
  })

  const nameProblem = computed(() =>
    name.value === "" ? null : Either.match(checkName(name.value), { onLeft: (m) => m, onRight: () => null })
  )
  const size = computed(() => new TextEncoder().encode(source.value).length)
  const canSubmit = computed(
    () =>
      !action.busy.value &&
      name.value !== "" &&
      nameProblem.value === null &&
      size.value > 0 &&
      size.value <= MAX_BYTES
  )

  const touchName = () => {
    nameTouched = true
  }

  const readFile = async (file: File) => {
    fileName.value = file.name
    if (/\.(ts|mts|cts)$/i.test(file.name)) language.value = "typescript"
    else if (/\.(js|mjs|cjs)$/i.test(file.name)) language.value = "javascript"
    source.value = await file.text()
  }

  const submit = async () => {
    if (!canSubmit.value) return
    result.value = null
    const sent = source.value
    const value = await action.run(() =>
      upload({ name: name.value, kind: kind.value, language: language.value, source: sent })
    )
    if (value) {
      uploadedSource.value = sent
      result.value = value
    }
    return value
  }

  return {
    name,
    kind,
    language,
    source,
    fileName,
    result,
    uploadedSource,
    nameProblem,
    size,
    canSubmit,
    busy: action.busy,
    error: action.error,
    touchName,
    readFile,
    submit,
    maxBytes: MAX_BYTES
  }
}
