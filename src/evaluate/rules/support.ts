// Small helpers the rules share. Pure, and cheap on the path where nothing changed.
import type { DerivedEvent } from "../../events/derived.js"

/** The empty result, shared so that a step that changes nothing allocates nothing. */
export const none: ReadonlyArray<DerivedEvent> = []

/** A value the original would call present: not absent, not null, not empty. */
export const present = (s: string | null | undefined): s is string => s !== undefined && s !== null && s !== ""

/** Equal as sets. Scanners usually repeat the same list in the same order, so that is checked first. */
export const sameSet = (a: ReadonlyArray<string>, b: ReadonlyArray<string>): boolean => {
  if (a === b) return true
  if (a.length === b.length) {
    let i = 0
    while (i < a.length && a[i] === b[i]) i++
    if (i === a.length) return true
  }
  const sa = new Set(a)
  const sb = new Set(b)
  if (sa.size !== sb.size) return false
  for (const x of sa) if (!sb.has(x)) return false
  return true
}
