import { describe, expect, it } from "@effect/vitest"
import { Arbitrary, FastCheck as fc, Schema } from "effect"
import { fastGuard } from "../../src/events/fast-guard.js"
import { DomainScanResultPayload, HostnameScanResultPayload, TlsScanResultPayload } from "../../src/events/raw.js"

const payloads = { DomainScanResultPayload, HostnameScanResultPayload, TlsScanResultPayload }

/** Values near the schema: valid payloads with one field replaced by an arbitrary JSON value. */
const nearly = <A, I>(schema: Schema.Schema<A, I>) =>
  fc.tuple(Arbitrary.make(schema), fc.string({ maxLength: 14 }), fc.jsonValue({ maxDepth: 2 })).map(([valid, key, value]) => {
    const copy: Record<string, unknown> = { ...(valid as object) }
    const keys = Object.keys(copy)
    copy[keys.length > 0 && key.length % 2 === 0 ? keys[key.length % keys.length]! : key] = value
    return copy as unknown
  })

describe("fastGuard", () => {
  for (const [name, schema] of Object.entries(payloads)) {
    const guard = fastGuard(schema as Schema.Schema<unknown, unknown>)!
    const is = Schema.is(schema as Schema.Schema<unknown, unknown>)

    it(`${name}: compiles`, () => expect(guard).toBeTypeOf("function"))

    it.prop(`${name}: accepts every value the schema generates`, [Arbitrary.make(schema as unknown as Schema.Schema<unknown, unknown>)], ([value]) => {
      // JSON round trip: what the store hands the fold comes from JSON.parse.
      const json: unknown = JSON.parse(JSON.stringify(value))
      expect(guard(json)).toBe(is(json))
    })

    it.prop(`${name}: agrees with the schema on values near it`, [nearly(schema as Schema.Schema<unknown, unknown>)], ([value]) => {
      expect(guard(value)).toBe(is(value))
    })

    it(`${name}: the near values include many the schema rejects`, () => {
      const sample = fc.sample(nearly(schema as Schema.Schema<unknown, unknown>), { numRuns: 300, seed: 7 })
      const rejected = sample.filter((v) => !is(v)).length
      expect(rejected).toBeGreaterThan(30)
    })
  }

  it("rejects wrong types, missing required fields and bad instants", () => {
    const guard = fastGuard(TlsScanResultPayload)!
    const ok = { ip: "192.0.2.1", port: 443, tls_status: "ok", scanned_at: "2025-01-01T00:00:00Z", extra: { any: 1 } }
    expect(guard(ok)).toBe(true)
    expect(guard({ ...ok, port: "443" })).toBe(false)
    expect(guard({ ...ok, altnames: ["a", 1] })).toBe(false)
    expect(guard({ ...ok, scanned_at: "yesterday" })).toBe(false)
    const { scanned_at: _, ...missing } = ok
    expect(guard(missing)).toBe(false)
    expect(guard([ok])).toBe(false)
    expect(guard(null)).toBe(false)
  })

  it("declines schemas it cannot mirror exactly (no index signature: the Schema would drop keys)", () => {
    expect(fastGuard(Schema.Struct({ a: Schema.String }))).toBeUndefined()
    expect(fastGuard(Schema.Struct({ a: Schema.Date }, Schema.Record({ key: Schema.String, value: Schema.Unknown })))).toBeUndefined()
  })
})
