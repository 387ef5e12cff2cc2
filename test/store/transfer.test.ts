import type { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Either, Layer, Stream } from "effect"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import type { StoredEvent } from "../../src/events/envelope.js"
import { EVAL_BUCKET, SCAN_BUCKET, SCAN_METADATA } from "../../src/events/envelope.js"
import { EventStore } from "../../src/store/event-store.js"
import { decodeLine, encodeLine, ImportLineError } from "../../src/store/jsonl.js"
import { SqliteEventStore } from "../../src/store/sqlite.js"
import { exportAll, exportBucket, importFile } from "../../src/store/transfer.js"
import { newEvent, ref, tempDir } from "./contract.js"

const all = <A, E, R>(stream: Stream.Stream<A, E, R>) => Effect.map(Stream.runCollect(stream), Chunk.toReadonlyArray)

/** A temp dir holding a fresh store, with the store and a file system provided. */
const withStore = <A, E>(f: (dir: string) => Effect.Effect<A, E, EventStore | FileSystem.FileSystem>) =>
  Effect.gen(function* () {
    const dir = yield* tempDir("xmon-transfer-")
    return yield* f(dir).pipe(
      Effect.provide(Layer.merge(SqliteEventStore.layer(join(dir, "events.db")), NodeFileSystem.layer)),
    )
  }).pipe(Effect.scoped)

const line = (fields: Record<string, unknown>) =>
  JSON.stringify({
    bucket: SCAN_BUCKET,
    aggregate_type: "HostnameScan",
    aggregate_id: "www",
    event_id: "id",
    event_type: "HostnameScanResult",
    payload: { hostname: "www", scanned_at: "2024-05-01T10:00:00Z" },
    metadata: SCAN_METADATA,
    ...fields,
  })

const goodLines = (n: number, stream = (i: number) => `h${i % 3}`) =>
  Array.from({ length: n }, (_, i) => line({ event_id: `ev-${n - i}`, aggregate_id: stream(i), payload: { i } }))

describe("jsonl lines", () => {
  it("encodes a stored event in a fixed key order and decodes it back", () => {
    const event: StoredEvent = {
      bucket: SCAN_BUCKET,
      aggregate_type: "TlsScan",
      aggregate_id: "ep-1",
      position: 3,
      global_position: 17,
      event_id: "e-1",
      event_type: "TlsScanResult",
      payload: { ip: "192.0.2.1", port: 443, extra: { nested: [1, null] } },
      metadata: { ...SCAN_METADATA },
      recorded_at: "2024-05-01T10:00:00.000Z",
    }
    const text = encodeLine(event)
    expect(Object.keys(JSON.parse(text))).toEqual([
      "bucket",
      "aggregate_type",
      "aggregate_id",
      "position",
      "event_id",
      "event_type",
      "payload",
      "metadata",
      "recorded_at",
    ])
    expect(text).not.toContain("\n")
    const { global_position: _, ...rest } = event
    expect(decodeLine(text, { file: "f", line: 1 })).toEqual(Either.right(rest))
  })

  it("names the file, line and field of a bad line", () => {
    const bad = decodeLine(line({ payload: { ok: 1 }, metadata: "nope" }), { file: "x.jsonl", line: 12 })
    expect(Either.isLeft(bad)).toBe(true)
    if (Either.isLeft(bad)) {
      expect(bad.left).toBeInstanceOf(ImportLineError)
      expect(bad.left.field).toBe("metadata")
      expect(bad.left.message).toMatch(/^x\.jsonl:12: metadata: /)
    }
    const missing = decodeLine(JSON.stringify({ bucket: "b" }), { file: "x.jsonl", line: 1 })
    expect(Either.isLeft(missing) && missing.left.field).toBe("aggregate_type")
    const json = decodeLine('{"bucket": "b",', { file: "x.jsonl", line: 2 })
    expect(Either.isLeft(json) && json.left.field).toBe(undefined)
    expect(Either.isLeft(json) && json.left.message).toMatch(/^x\.jsonl:2: invalid JSON: /)
  })
})

describe("importFile", () => {
  it.effect("a bad line names file, line and field, and nothing is appended", () =>
    withStore((dir) =>
      Effect.gen(function* () {
        const file = join(dir, "bad.jsonl")
        const lines = goodLines(900)
        // Line 2 is blank and counts; the bad line is number 803, after the first batch's worth.
        lines.splice(1, 0, "")
        lines[802] = line({ event_id: "bad", payload: { hostname: "www" }, aggregate_id: 42 })
        writeFileSync(file, lines.join("\n"))
        const error = yield* Effect.flip(importFile(file))
        expect(error._tag).toBe("ImportLineError")
        if (error._tag === "ImportLineError") {
          expect(error.file).toBe(file)
          expect(error.line).toBe(803)
          expect(error.field).toBe("aggregate_id")
          expect(error.message).toContain(`${file}:803: aggregate_id`)
        }
        const store = yield* EventStore
        expect(yield* all(store.readBucket(SCAN_BUCKET, 0))).toEqual([])
      }),
    ))

  it.effect("invalid JSON is reported with its line", () =>
    withStore((dir) =>
      Effect.gen(function* () {
        const file = join(dir, "broken.jsonl")
        writeFileSync(file, [...goodLines(3), '{"bucket": "recon-scan", "aggregate_type"', ...goodLines(2)].join("\n"))
        const error = yield* Effect.flip(importFile(file))
        expect(error._tag === "ImportLineError" && [error.line, error.field]).toEqual([4, undefined])
        expect(error.message).toContain("invalid JSON")
      }),
    ))

  it.effect("a missing file is an ImportFileError naming it", () =>
    withStore((dir) =>
      Effect.gen(function* () {
        const file = join(dir, "missing.jsonl")
        const error = yield* Effect.flip(importFile(file))
        expect(error._tag).toBe("ImportFileError")
        expect(error.message).toContain(file)
      }),
    ))

  it.effect("appends in line order, ignores exported positions, and re-import stores nothing", () =>
    withStore((dir) =>
      Effect.gen(function* () {
        const store = yield* EventStore
        // Ids run backwards and streams interleave, so neither id nor stream order could pass for line order.
        const lines = goodLines(1234).map((text, i) => {
          const parsed = JSON.parse(text)
          return JSON.stringify({ ...parsed, position: 1000 + i, recorded_at: "1999-01-01T00:00:00Z" })
        })
        const file = join(dir, "ordered.jsonl")
        writeFileSync(file, lines.join("\n") + "\n")

        expect(yield* importFile(file, { batchSize: 100 })).toEqual({ lines: 1234, stored: 1234, duplicates: 0 })
        const read = yield* all(store.readBucket(SCAN_BUCKET, 0))
        expect(read.map((e) => e.event_id)).toEqual(lines.map((l) => JSON.parse(l).event_id))
        const h1 = yield* all(store.readStream(ref("HostnameScan", "h1"), 0))
        expect(h1.map((e) => e.position)).toEqual(Array.from({ length: h1.length }, (_, i) => i + 1))
        expect(h1.map((e) => e.payload["i"])).toEqual(
          Array.from({ length: 1234 }, (_, i) => i).filter((i) => i % 3 === 1),
        )
        expect(read.every((e) => e.recorded_at !== "1999-01-01T00:00:00Z")).toBe(true)

        expect(yield* importFile(file)).toEqual({ lines: 1234, stored: 0, duplicates: 1234 })
        expect(yield* all(store.readBucket(SCAN_BUCKET, 0))).toEqual(read)
      }),
    ))

  it.effect("takes CRLF, blank lines and a last line without a line break", () =>
    withStore((dir) =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const file = join(dir, "crlf.jsonl")
        const [a, b, c] = goodLines(3, () => "crlf")
        writeFileSync(file, `\r\n${a}\r\n\r\n   \r\n${b}\r\n${c}`)
        expect(yield* importFile(file)).toEqual({ lines: 3, stored: 3, duplicates: 0 })
        const read = yield* all(store.readStream(ref("HostnameScan", "crlf"), 0))
        expect(read.map((e) => e.payload)).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }])

        // Line numbers count the blank lines: the bad line here is line 4.
        const bad = join(dir, "crlf-bad.jsonl")
        writeFileSync(bad, `${a}\r\n\r\n${b}\r\n${line({ event_type: "" })}\r\n`)
        const error = yield* Effect.flip(importFile(bad))
        expect(error._tag === "ImportLineError" && [error.line, error.field]).toEqual([4, "event_type"])
      }),
    ))
})

describe("export", () => {
  it.effect("writes one line per event in global order, scan bucket then eval bucket", () =>
    withStore(() =>
      Effect.gen(function* () {
        const store = yield* EventStore
        yield* store.appendBatch([
          { stream: ref("Domain", "d", EVAL_BUCKET), event: newEvent("v1") },
          { stream: ref("DomainScan", "d"), event: newEvent("s1") },
          { stream: ref("TlsScan", "t"), event: newEvent("s2") },
          { stream: ref("DomainScan", "d"), event: newEvent("s3") },
          { stream: ref("Other", "o", "elsewhere"), event: newEvent("x1") },
        ])
        const scan = yield* all(exportBucket(SCAN_BUCKET))
        expect(scan.every((l) => l.endsWith("\n") && l.indexOf("\n") === l.length - 1)).toBe(true)
        expect(scan.map((l) => JSON.parse(l).event_id)).toEqual(["s1", "s2", "s3"])
        expect(scan.map((l) => JSON.parse(l).position)).toEqual([1, 1, 2])
        expect((yield* all(exportAll())).map((l) => JSON.parse(l).event_id)).toEqual(["s1", "s2", "s3", "v1"])
        expect((yield* all(exportAll(["elsewhere"]))).map((l) => JSON.parse(l).event_id)).toEqual(["x1"])
      }),
    ))
})
