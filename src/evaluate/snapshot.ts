// Rule state to JSON and back, so an incremental run can resume where the last one stopped.
// Plain JSON cannot hold Map and Set, which rule states use; they are tagged here.

const MAP = "$map"
const SET = "$set"

// A Map is written as two columns (keys, values) rather than a list of pairs: a snapshot holds a
// Map entry per entity per rule, and the pairs' small arrays were most of the cost of loading it.
export const encodeState = (value: unknown): unknown => {
  if (value instanceof Map) {
    const keys: Array<unknown> = []
    const values: Array<unknown> = []
    for (const [k, v] of value) {
      keys.push(encodeState(k))
      values.push(encodeState(v))
    }
    return { [MAP]: { keys, values } }
  }
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
    if (MAP in obj) {
      const { keys, values } = obj[MAP] as { keys: Array<unknown>; values: Array<unknown> }
      const map = new Map<unknown, unknown>()
      for (let i = 0; i < keys.length; i++) map.set(decodeState(keys[i]), decodeState(values[i]))
      return map
    }
    if (SET in obj && Array.isArray(obj[SET])) return new Set((obj[SET] as Array<unknown>).map(decodeState))
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(obj)) out[k] = decodeState(v)
    return out
  }
  return value
}
