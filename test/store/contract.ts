// The one suite every EventStore implementation must pass. It uses the EventStore interface only
// (and export/import, which are built on it). `makeLayer()` must give a fresh, empty store on every
// call: each test builds its own, and the round trip imports into a second one.
import { NodeFileSystem } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Layer, Option, Stream } from "effect"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Addressed, NewEvent, StoredEvent, StreamRef } from "../../src/events/envelope.js"
import { EVAL_BUCKET, SCAN_BUCKET, SCAN_METADATA } from "../../src/events/envelope.js"
import type { StoreError } from "../../src/store/event-store.js"
import { EventStore } from "../../src/store/event-store.js"
import { exportAll, importFile } from "../../src/store/transfer.js"

/** More than two pages of the default page size (1000), and not a multiple of it. */
const MANY = 2345

export const ref = (aggregate_type: string, aggregate_id: string, bucket = SCAN_BUCKET): StreamRef => ({
  bucket,
  aggregate_type,
  aggregate_id,
})

/** A unique-per-suite event id: the Umrath backend may keep events of earlier runs. */
export const newEvent = (id: string, payload: Record<string, unknown> = {}, event_type = "TestEvent"): NewEvent => ({
  event_id: id,
  event_type,
  payload: { scanned_at: "2024-05-01T10:00:00Z", ...payload },
  metadata: { ...SCAN_METADATA },
})

const all = <A, E, R>(stream: Stream.Stream<A, E, R>) => Effect.map(Stream.runCollect(stream), Chunk.toReadonlyArray)

/** The fields an event keeps across stores: everything but where and when a store put it. */
const portable = (e: StoredEvent) => ({
  bucket: e.bucket,
  aggregate_type: e.aggregate_type,
  aggregate_id: e.aggregate_id,
  position: e.position,
  event_id: e.event_id,
  event_type: e.event_type,
  payload: e.payload,
  metadata: e.metadata,
})

/** A temporary directory removed when the scope closes. */
export const tempDir = (prefix: string) =>
  Effect.acquireRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), prefix))),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true })),
  )

const strictlyIncreasing = (xs: ReadonlyArray<number>): boolean => xs.every((x, i) => i === 0 || xs[i - 1]! < x)

export const eventStoreContract = (name: string, makeLayer: () => Layer.Layer<EventStore, StoreError>) =>
  describe(`EventStore contract: ${name}`, () => {
    // Ids unique to this run of the suite, so a long-lived backend never sees an id twice by accident.
    let seq = 0
    const unique = (label: string) => `${label}-${process.pid}-${Date.now().toString(36)}-${++seq}`

    const run = <A, E>(effect: Effect.Effect<A, E, EventStore>) => Effect.provide(effect, makeLayer())

    it.effect("appends and reads back exactly, with positions 1..n", () =>
      run(
        Effect.gen(function* () {
          const store = yield* EventStore
          const s = ref("DomainScan", unique("nic.cz"))
          const events = [
            newEvent(unique("e"), {
              domain_name: "nic.cz",
              nameservers: ["a.ns.nic.cz", "b.ns.nic.cz"],
              future_field: { nested: [1, { deep: null }, "x"], flag: true },
              unicode: "Příliš žluťoučký kůň 🐎",
            }),
            { ...newEvent(unique("e")), metadata: { ...SCAN_METADATA, import_commit: "abc123" } },
            newEvent(unique("e"), { number: 1.5, negative: -7, empty: {}, list: [] }),
          ]
          const result = yield* store.append(s, events)
          expect(result).toEqual({ stored: 3, duplicates: 0 })

          const read = yield* all(store.readStream(s, 0))
          expect(read.map(portable)).toEqual(events.map((e, i) => ({ ...s, position: i + 1, ...e })))
          for (const e of read) expect(Number.isNaN(Date.parse(e.recorded_at))).toBe(false)
          expect(strictlyIncreasing(read.map((e) => e.global_position))).toBe(true)
        }),
      ))

    it.effect("appending an id that exists is a no-op counted as a duplicate", () =>
      run(
        Effect.gen(function* () {
          const store = yield* EventStore
          const s = ref("HostnameScan", unique("www"))
          const first = newEvent(unique("e"), { hostname: "www", addresses: ["192.0.2.1"] })
          const second = newEvent(unique("e"), { hostname: "www", addresses: ["192.0.2.2"] })
          expect(yield* store.append(s, [first, second])).toEqual({ stored: 2, duplicates: 0 })
          const before = yield* all(store.readStream(s, 0))

          // The same id again, even with a different body, changes nothing.
          const again = yield* store.append(s, [{ ...first, payload: { changed: true } }])
          expect(again).toEqual({ stored: 0, duplicates: 1 })
          expect(yield* all(store.readStream(s, 0))).toEqual(before)

          // A repeated id within one batch: stored once, the repeat counted.
          const third = newEvent(unique("e"))
          const batch = yield* store.appendBatch([
            { stream: s, event: third },
            { stream: s, event: second },
            { stream: s, event: third },
          ])
          expect(batch).toEqual({ stored: 1, duplicates: 2 })
          const after = yield* all(store.readStream(s, 0))
          expect(after.map((e) => [e.position, e.event_id])).toEqual([
            [1, first.event_id],
            [2, second.event_id],
            [3, third.event_id],
          ])
        }),
      ))

    it.effect("appendBatch across streams keeps append order in the bucket and per stream", () =>
      run(
        Effect.gen(function* () {
          const store = yield* EventStore
          const bucket = unique("bucket")
          const streams = [ref("TlsScan", "ep-b", bucket), ref("TlsScan", "ep-a", bucket), ref("DomainScan", "d", bucket)]
          const batch: Array<Addressed> = []
          for (let i = 0; i < 30; i++) batch.push({ stream: streams[(i * 7) % 3]!, event: newEvent(unique(`e${i}`), { i }) })
          expect(yield* store.appendBatch(batch)).toEqual({ stored: 30, duplicates: 0 })

          const read = yield* all(store.readBucket(bucket, 0))
          expect(read.map((e) => e.event_id)).toEqual(batch.map((a) => a.event.event_id))
          expect(strictlyIncreasing(read.map((e) => e.global_position))).toBe(true)
          expect(read.every((e) => e.bucket === bucket)).toBe(true)

          for (const s of streams) {
            const own = batch.filter((a) => a.stream === s).map((a) => a.event.event_id)
            const stream = yield* all(store.readStream(s, 0))
            expect(stream.map((e) => e.event_id)).toEqual(own)
            expect(stream.map((e) => e.position)).toEqual(own.map((_, i) => i + 1))
            expect(stream.every((e) => e.aggregate_type === s.aggregate_type && e.aggregate_id === s.aggregate_id)).toBe(
              true,
            )
          }
        }),
      ))

    it.effect("buckets are separate", () =>
      run(
        Effect.gen(function* () {
          const store = yield* EventStore
          const id = unique("x")
          const scan = ref("DomainScan", id, unique("scan"))
          const evalRef = ref("Domain", id, unique("eval"))
          yield* store.appendBatch([
            { stream: scan, event: newEvent(unique("s")) },
            { stream: evalRef, event: newEvent(unique("v")) },
            { stream: scan, event: newEvent(unique("s")) },
          ])
          expect((yield* all(store.readBucket(scan.bucket, 0))).map((e) => e.bucket)).toEqual([scan.bucket, scan.bucket])
          expect((yield* all(store.readBucket(evalRef.bucket, 0))).map((e) => e.position)).toEqual([1])
        }),
      ))

    it.effect("reads after a position, per stream and per bucket", () =>
      run(
        Effect.gen(function* () {
          const store = yield* EventStore
          const bucket = unique("bucket")
          const a = ref("HostnameScan", "a", bucket)
          const b = ref("HostnameScan", "b", bucket)
          const batch = Array.from({ length: 10 }, (_, i) => ({ stream: i % 2 === 0 ? a : b, event: newEvent(unique(`e${i}`)) }))
          yield* store.appendBatch(batch)

          const tail = yield* all(store.readStream(a, 3))
          expect(tail.map((e) => e.position)).toEqual([4, 5])
          expect(tail.map((e) => e.event_id)).toEqual([batch[6]!.event.event_id, batch[8]!.event.event_id])
          expect(yield* all(store.readStream(a, 5))).toEqual([])

          const whole = yield* all(store.readBucket(bucket, 0))
          const cut = whole[3]!.global_position
          const rest = yield* all(store.readBucket(bucket, cut))
          expect(rest).toEqual(whole.slice(4))
          expect(yield* all(store.readBucket(bucket, whole[9]!.global_position))).toEqual([])
        }),
      ))

    it.effect(`pages through more than two pages (${MANY} events) in order`, () =>
      run(
        Effect.gen(function* () {
          const store = yield* EventStore
          const bucket = unique("bucket")
          const big = ref("TlsScan", "big", bucket)
          const small = ref("TlsScan", "small", bucket)
          const batch = Array.from({ length: MANY }, (_, i) => ({
            stream: i % 10 === 0 ? small : big,
            event: newEvent(unique(`p${i}`), { i }),
          }))
          expect(yield* store.appendBatch(batch)).toEqual({ stored: MANY, duplicates: 0 })

          const read = yield* all(store.readBucket(bucket, 0))
          expect(read.map((e) => e.payload["i"])).toEqual(batch.map((_, i) => i))
          expect(strictlyIncreasing(read.map((e) => e.global_position))).toBe(true)

          const bigRead = yield* all(store.readStream(big, 0))
          const bigCount = batch.filter((x) => x.stream === big).length
          expect(bigRead.map((e) => e.position)).toEqual(Array.from({ length: bigCount }, (_, i) => i + 1))
          expect((yield* all(store.readStream(big, 1000))).map((e) => e.position)[0]).toBe(1001)

          // Separate small appends, one event each, continue the stream's positions.
          yield* store.append(small, [newEvent(unique("tail"))])
          const smallRead = yield* all(store.readStream(small, 0))
          expect(smallRead.map((e) => e.position)).toEqual(Array.from({ length: smallRead.length }, (_, i) => i + 1))
          expect(smallRead.length).toBe(Math.ceil(MANY / 10) + 1)
        }),
      ))

    it.effect("lists the streams of a bucket with their lengths, sorted", () =>
      run(
        Effect.gen(function* () {
          const store = yield* EventStore
          const bucket = unique("bucket")
          const batch: Array<Addressed> = [
            { stream: ref("TlsScan", "ep-2", bucket), event: newEvent(unique("e")) },
            { stream: ref("DomainScan", "b.cz", bucket), event: newEvent(unique("e")) },
            { stream: ref("TlsScan", "ep-1", bucket), event: newEvent(unique("e")) },
            { stream: ref("DomainScan", "a.cz", bucket), event: newEvent(unique("e")) },
            { stream: ref("TlsScan", "ep-2", bucket), event: newEvent(unique("e")) },
            { stream: ref("Other", "x", unique("other")), event: newEvent(unique("e")) },
          ]
          yield* store.appendBatch(batch)
          expect(yield* store.listStreams(bucket)).toEqual([
            { ...ref("DomainScan", "a.cz", bucket), length: 1 },
            { ...ref("DomainScan", "b.cz", bucket), length: 1 },
            { ...ref("TlsScan", "ep-1", bucket), length: 1 },
            { ...ref("TlsScan", "ep-2", bucket), length: 2 },
          ])
          expect(yield* store.listStreams(unique("empty"))).toEqual([])
        }),
      ))

    it.effect("saves, loads and overwrites checkpoints, also with a batch", () =>
      run(
        Effect.gen(function* () {
          const store = yield* EventStore
          const name = unique("checkpoint")
          expect(yield* store.loadCheckpoint(name)).toEqual(Option.none())
          yield* store.saveCheckpoint({ name, value: '{"position":1}' })
          expect(yield* store.loadCheckpoint(name)).toEqual(Option.some('{"position":1}'))
          yield* store.saveCheckpoint({ name, value: '{"position":2}' })
          expect(yield* store.loadCheckpoint(name)).toEqual(Option.some('{"position":2}'))

          const s = ref("Domain", unique("d"), EVAL_BUCKET)
          const other = unique("checkpoint")
          const result = yield* store.appendBatch(
            [{ stream: s, event: newEvent(unique("e")) }],
            [
              { name, value: "3" },
              { name: other, value: "x" },
            ],
          )
          expect(result).toEqual({ stored: 1, duplicates: 0 })
          expect(yield* store.loadCheckpoint(name)).toEqual(Option.some("3"))
          expect(yield* store.loadCheckpoint(other)).toEqual(Option.some("x"))
          // Checkpoints alone, with an empty batch.
          yield* store.appendBatch([], [{ name, value: "4" }])
          expect(yield* store.loadCheckpoint(name)).toEqual(Option.some("4"))
        }),
      ))

    it.effect("reading an empty or unknown stream or bucket gives nothing, not an error", () =>
      run(
        Effect.gen(function* () {
          const store = yield* EventStore
          const bucket = unique("nothing")
          expect(yield* all(store.readStream(ref("DomainScan", "none", bucket), 0))).toEqual([])
          expect(yield* all(store.readBucket(bucket, 0))).toEqual([])
          expect(yield* store.append(ref("DomainScan", "none", bucket), [])).toEqual({ stored: 0, duplicates: 0 })
          expect(yield* store.appendBatch([])).toEqual({ stored: 0, duplicates: 0 })
          expect(yield* all(store.readBucket(bucket, 0))).toEqual([])
        }),
      ))

    it.effect("export then import into a fresh store gives the same events", () =>
      Effect.gen(function* () {
        const scanBucket = unique("scan")
        const evalBucket = unique("eval")
        const batch: Array<Addressed> = []
        for (let i = 0; i < 40; i++) {
          const bucket = i % 4 === 3 ? evalBucket : scanBucket
          batch.push({
            stream: ref(i % 3 === 0 ? "DomainScan" : "TlsScan", `id-${i % 5}`, bucket),
            event: newEvent(unique(`x${i}`), { i, nested: { list: [i, "two", null] }, text: "line\nbreak \"quoted\"" }),
          })
        }
        const exported = yield* Effect.gen(function* () {
          const store = yield* EventStore
          yield* store.appendBatch(batch)
          const lines = yield* all(exportAll([scanBucket, evalBucket]))
          const events = [
            ...(yield* all(store.readBucket(scanBucket, 0))),
            ...(yield* all(store.readBucket(evalBucket, 0))),
          ]
          return { text: lines.join(""), events }
        }).pipe(Effect.provide(makeLayer()))
        expect(exported.text.split("\n").length).toBe(batch.length + 1)

        const dir = yield* tempDir("xmon-contract-")
        const file = join(dir, "export.jsonl")
        writeFileSync(file, exported.text)
        const imported = yield* Effect.gen(function* () {
          const store = yield* EventStore
          const result = yield* importFile(file)
          const events = [
            ...(yield* all(store.readBucket(scanBucket, 0))),
            ...(yield* all(store.readBucket(evalBucket, 0))),
          ]
          return { result, events }
        }).pipe(Effect.provide(Layer.merge(makeLayer(), NodeFileSystem.layer)))
        expect(imported.result).toEqual({ lines: batch.length, stored: batch.length, duplicates: 0 })
        expect(imported.events.map(portable)).toEqual(exported.events.map(portable))
      }).pipe(Effect.scoped))
  })
