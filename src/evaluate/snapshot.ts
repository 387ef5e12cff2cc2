// Rule state to JSON and back, so an incremental run can resume where the last one stopped.
// Plain JSON cannot hold Map and Set, which rule states use; they are tagged here.

const MAP = "$map"
const SET = "$set"

export const encodeState = (value: unknown): unknown => {
  if (value instanceof Map) return { [MAP]: [...value].map(([k, v]) => [encodeState(k), encodeState(v)]) }
  if (value instanceof Set) return { [SET]: [...value].map(encodeState) }
  if (Array.isArray(value)) return value.map(encodeState)
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = encodeState(v)
    return out
  }
  return value
}

export const decodeState = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(decodeState)
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>
    if (MAP in obj && Array.isArray(obj[MAP]))
      return new Map((obj[MAP] as Array<[unknown, unknown]>).map(([k, v]) => [decodeState(k), decodeState(v)]))
    if (SET in obj && Array.isArray(obj[SET])) return new Set((obj[SET] as Array<unknown>).map(decodeState))
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(obj)) out[k] = decodeState(v)
    return out
  }
  return value
}
