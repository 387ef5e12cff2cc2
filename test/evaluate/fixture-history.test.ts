// The fixture history folded through the default rule set must derive exactly what its stories
// say (fixtures/history.expected.jsonl, written by fixtures/generate-history.mjs from each story).
import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { DerivedEvent } from "../../src/events/derived.js"
import { EVAL_METADATA, SCAN_BUCKET } from "../../src/events/envelope.js"
import { RawEvent } from "../../src/events/raw.js"
import { foldEvents } from "../../src/evaluate/fold.js"
import { rules } from "../../src/evaluate/rules/index.js"

const fixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url))

const lines = (name: string): Array<Record<string, unknown>> =>
  readFileSync(fixture(name), "utf8")
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Record<string, unknown>)

/** The export lines as a store would hand them to the fold: per-stream and global positions. */
const history = (): ReadonlyArray<RawEvent> => {
  const positions = new Map<string, number>()
  return lines("history.jsonl").map((line, i) => {
    const stream = `${String(line.aggregate_type)}/${String(line.aggregate_id)}`
    const position = (positions.get(stream) ?? 0) + 1
    positions.set(stream, position)
    return Schema.decodeUnknownSync(RawEvent)({ ...line, position, global_position: i + 1 })
  })
}

describe("fixture history", () => {
  const raw = history()
  const expected = lines("history.expected.jsonl")
  const { derived } = foldEvents(rules, raw)

  it("is a few hundred raw events of recon-scan, with stories that derive something", () => {
    const all = lines("history.jsonl")
    expect(all.length).toBeGreaterThanOrEqual(200)
    expect(all.every((line) => line.bucket === SCAN_BUCKET)).toBe(true)
    expect(new Set(all.map((line) => line.event_id)).size).toBe(all.length)
    expect(expected.length).toBeGreaterThan(20)
    // Every derived event type has a story.
    expect(new Set(expected.map((e) => e.event_type)).size).toBe(12)
  })

  it("derives exactly the expected events, in fold order", () => {
    const actual = derived.map((d) => ({
      event_type: d.event_type,
      aggregate_type: d.aggregate_type,
      aggregate_id: d.aggregate_id,
      source_event_id: d.payload.source_event_id,
      payload: d.payload,
    }))
    expect(actual).toEqual(expected)
  })

  it("derives well-formed events with unique ids and eval metadata", () => {
    for (const d of derived) {
      expect(Schema.decodeUnknownSync(DerivedEvent)(d)).toEqual(d)
      expect(d.metadata).toEqual(EVAL_METADATA)
      expect(d.event_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    }
    expect(new Set(derived.map((d) => d.event_id)).size).toBe(derived.length)
  })

  it("is what the seeded generator writes, on every run", () => {
    const dir = mkdtempSync(join(tmpdir(), "xmon-fixture-"))
    try {
      execFileSync(process.execPath, [fixture("generate-history.mjs"), dir], { stdio: "pipe", timeout: 30_000 })
      for (const name of ["history.jsonl", "history.expected.jsonl"])
        expect(readFileSync(join(dir, name), "utf8")).toBe(readFileSync(fixture(name), "utf8"))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("keeps an unknown payload field through decoding without deriving anything from it", () => {
    const extra = raw.filter((e) => "registry_lock" in e.payload || "alpn" in e.payload)
    expect(extra.length).toBeGreaterThan(0)
    const sources = new Set(derived.map((d) => d.payload.source_event_id))
    expect(extra.some((e) => sources.has(e.event_id))).toBe(false)
  })
})
