// Instants as the events write them, read the same way on every machine. `Date.parse` reads a
// date-time without a zone in the machine's local time, which would make derived events (days
// remaining, threshold crossings) depend on where evaluate runs: here such a time is UTC.

// YYYY-MM-DD, optionally followed by T (or a space) hh:mm[:ss[.fff]] and a zone (Z, ±hh:mm, ±hhmm, ±hh).
const ISO = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i

// The shape scanners write (`toISOString`, or an offset with a colon): Date.parse reads it exactly.
const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/

/**
 * Milliseconds since the epoch of an ISO 8601 date or date-time, or NaN if the text is not one.
 * A bare date means 00:00 UTC that day; a time without a zone is UTC.
 */
export const parseInstant = (text: string): number => {
  if (CANONICAL.test(text)) return Date.parse(text)
  const m = ISO.exec(text.trim())
  if (m === null) return Number.NaN
  const [, date, time, zone] = m
  if (time === undefined) return Date.parse(`${date}T00:00:00Z`)
  const offset =
    zone === undefined || zone.toUpperCase() === "Z"
      ? "Z"
      : zone.length === 3
        ? `${zone}:00`
        : zone.includes(":")
          ? zone
          : `${zone.slice(0, 3)}:${zone.slice(3)}`
  return Date.parse(`${date}T${time}${offset}`)
}

export const isInstant = (text: string): boolean => !Number.isNaN(parseInstant(text))
