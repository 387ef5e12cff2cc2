import { afterEach, describe, expect, it } from "vitest"
import { parseInstant } from "../../src/events/instant.js"
import { daysUntil, expiryInstant } from "../../src/evaluate/derive.js"

const originalTz = process.env.TZ
afterEach(() => {
  if (originalTz === undefined) delete process.env.TZ
  else process.env.TZ = originalTz
})

describe("parseInstant", () => {
  it("reads a time without a zone as UTC, whatever the machine's zone", () => {
    for (const tz of ["UTC", "America/New_York", "Asia/Kolkata", "Europe/Prague"]) {
      process.env.TZ = tz
      expect(parseInstant("2025-01-31T12:00:00")).toBe(Date.UTC(2025, 0, 31, 12))
      expect(parseInstant("2025-01-31 12:00")).toBe(Date.UTC(2025, 0, 31, 12))
      expect(parseInstant("2025-01-31")).toBe(Date.UTC(2025, 0, 31))
      expect(daysUntil("2025-01-01T00:00:00", expiryInstant("2025-01-31"))).toBe(30)
    }
  })

  it("honours explicit zones in every ISO spelling", () => {
    const expected = Date.UTC(2025, 0, 31, 11, 0, 0, 500)
    for (const text of ["2025-01-31T11:00:00.5Z", "2025-01-31T12:00:00.500+01:00", "2025-01-31T12:00:00.500+0100", "2025-01-31T12:00:00.5+01", "2025-01-31T06:00:00.500-05:00"])
      expect(parseInstant(text), text).toBe(expected)
  })

  it("refuses what is not ISO 8601, though Date.parse would guess", () => {
    for (const text of ["1", "March 7 2025", "2025/01/31", "31.01.2025", "", "2025-01-31T12", "yesterday"])
      expect(parseInstant(text), text).toBeNaN()
  })
})
