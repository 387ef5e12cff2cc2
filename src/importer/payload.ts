// Shaping the payloads both importers write (./page-events.ts, ./legacy-events.ts). Pure.
import type { JsonObject } from "../events/envelope.js"

/** Drop absent and null values (Ruby's `compact`): the original left such fields out. */
export const compact = (o: Record<string, unknown>): JsonObject => {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== null) out[k] = v
  return out
}

const RUBY_TIME = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d+)?[ ]*(Z|UTC|[+-]\d{2}:?\d{2})?$/

/**
 * A time as ISO 8601. Ruby's `to_yaml` writes a Time as `2025-01-31 12:00:00.000000000 Z`;
 * anything else is kept as written.
 */
export const isoTime = (text: string): string => {
  const m = RUBY_TIME.exec(text.trim())
  if (!m) return text
  const [, date, time, fraction, zone] = m
  const millis = fraction ? `.${fraction.slice(1, 4).padEnd(3, "0")}` : ""
  const offset =
    zone === undefined || zone === "Z" || zone === "UTC"
      ? "Z"
      : zone.includes(":")
        ? zone
        : `${zone.slice(0, 3)}:${zone.slice(3)}`
  return `${date}T${time}${millis}${offset}`
}
