// Through a proxy that fails 30 % of requests (503, reset, stall, reset after the work was done),
// appending a few thousand events in batches and reading them back stores every event exactly once.
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Layer, Logger, LogLevel, Stream } from "effect"
import { join } from "node:path"
import type { Addressed, StoredEvent, StreamRef } from "../../src/events/envelope.js"
import { EVAL_BUCKET, SCAN_BUCKET } from "../../src/events/envelope.js"
import { rules } from "../../src/evaluate/rules/index.js"
import { runEvaluation } from "../../src/evaluate/runner.js"
import { SqliteEventStore } from "../../src/store/sqlite.js"
import { fixtureHistory } from "../support/stores.js"
import { EventStore } from "../../src/store/event-store.js"
import { UmrathEventStore } from "../../src/store/umrath.js"
import { startFaultProxy } from "../support/fault-proxy.js"
import { scopedTempDir, startTestServer } from "../support/store-server.js"

const quiet = Logger.minimumLogLevel(LogLevel.None)

const TOTAL = 3000
const BATCH = 100

const streams: ReadonlyArray<StreamRef> = Array.from({ length: 12 }, (_, i) => ({
  bucket: "recon-scan",
  aggregate_type: i % 2 === 0 ? "TlsScan" : "HostnameScan",
  aggregate_id: `s-${i}`,
}))

/** Batches of 100: four runs of 25 events, each run one stream, as a scan of a few targets would give. */
const batches: ReadonlyArray<ReadonlyArray<Addressed>> = Array.from({ length: TOTAL / BATCH }, (_, b) =>
  Array.from({ length: BATCH }, (_, j) => ({
    stream: streams[(b * 4 + Math.floor(j / 25)) % streams.length]!,
    event: {
      event_id: `fault-${b * BATCH + j}`,
      event_type: "TlsScanResult",
      payload: { n: b * BATCH + j, scanned_at: `2024-05-01T00:00:${String(b % 60).padStart(2, "0")}Z` },
      metadata: { source: "ezrecon", layer: "scan", version: "1.0" },
    },
  })),
)

describe("Umrath client through 30 % injected faults", () => {
  it.scopedLive(
    `appends ${TOTAL} events in batches and reads them back, each exactly once`,
    () =>
      Effect.gen(function* () {
        const server = yield* startTestServer()
        const proxy = yield* startFaultProxy({ target: server.url, share: 0.3, seed: 20240501, stallMillis: 2_000 })
        const client = UmrathEventStore.layer({
          url: proxy.url,
          checkpointFile: join(server.dir, "cp.json"),
          requestTimeout: "400 millis",
          connectTimeout: "1 second",
          // 0.3^31 is about 6e-17: retries cannot run out in this test.
          retry: { baseMillis: 2, capMillis: 40, maxRetries: 30, maxRetryAfterMillis: 100 },
        })

        const { totals, throughProxy } = yield* Effect.gen(function* () {
          const store = yield* EventStore
          let stored = 0
          let duplicates = 0
          for (const batch of batches) {
            const r = yield* store.appendBatch(batch)
            stored += r.stored
            duplicates += r.duplicates
          }
          const read = yield* Stream.runCollect(store.readBucket("recon-scan", 0))
          return { totals: { stored, duplicates }, throughProxy: Chunk.toReadonlyArray(read) }
        }).pipe(Effect.provide(client))

        // Every event was accounted for: new, or a duplicate of its own earlier, unanswered attempt.
        expect(totals.stored + totals.duplicates).toBe(TOTAL)

        const direct = yield* Effect.flatMap(EventStore, (store) =>
          Effect.all({
            events: Effect.map(Stream.runCollect(store.readBucket("recon-scan", 0)), Chunk.toReadonlyArray),
            streams: store.listStreams("recon-scan"),
          }),
        ).pipe(Effect.provide(server.direct))
        const ids = direct.events.map((e) => e.event_id)
        expect(ids.length).toBe(TOTAL)
        expect(new Set(ids).size).toBe(TOTAL)
        expect([...ids].sort()).toEqual(batches.flat().map((a) => a.event.event_id).sort())
        expect(direct.streams.reduce((n, s) => n + s.length, 0)).toBe(TOTAL)
        // Each stream holds its events in the order they were sent.
        for (const s of streams) {
          const sent = batches.flat().filter((a) => a.stream === s).map((a) => a.event.event_id)
          const kept = direct.events.filter((e) => e.aggregate_id === s.aggregate_id).map((e) => e.event_id)
          expect(kept).toEqual(sent)
        }
        // Read back through the faults: the same events in the same order.
        expect(throughProxy.map((e) => e.event_id)).toEqual(ids)

        // The proxy really did misbehave, in every way it knows.
        expect(proxy.stats.requests).toBeGreaterThan(TOTAL / BATCH)
        for (const count of Object.values(proxy.stats.faults)) expect(count).toBeGreaterThan(0)
        const faults = Object.values(proxy.stats.faults).reduce((a, b) => a + b, 0)
        expect(faults / proxy.stats.requests).toBeGreaterThan(0.15)
      }),
    120_000,
  )

  it.scopedLive(
    "an import of the fixture history and an evaluate through the faults give exactly the derived events of a clean run",
    () =>
      Effect.gen(function* () {
        const history = fixtureHistory()
        // The reference: the same history evaluated in an embedded store, no network in between.
        const reference = yield* Effect.gen(function* () {
          const store = yield* EventStore
          yield* store.appendBatch(history)
          yield* runEvaluation({ rules })
          return (yield* Stream.runCollect(store.readBucket(EVAL_BUCKET, 0))).pipe(Chunk.toReadonlyArray)
        }).pipe(Effect.provide(Layer.merge(SqliteEventStore.layer(join(yield* scopedTempDir("xmon-ref-"), "ref.db")), quiet)))

        const server = yield* startTestServer()
        const proxy = yield* startFaultProxy({ target: server.url, share: 0.3, seed: 20261204, stallMillis: 2_000 })
        const client = UmrathEventStore.layer({
          url: proxy.url,
          checkpointFile: join(server.dir, "checkpoint.json"),
          requestTimeout: "400 millis",
          connectTimeout: "1 second",
          retry: { baseMillis: 2, capMillis: 40, maxRetries: 30, maxRetryAfterMillis: 100 },
        })
        const summary = yield* Effect.gen(function* () {
          const store = yield* EventStore
          for (let i = 0; i < history.length; i += 50) yield* store.appendBatch(history.slice(i, i + 50))
          // Small batches: many appends of derived events through the faults, each with a checkpoint.
          return yield* runEvaluation({ rules, batchSize: 5, commitEvery: 40 })
        }).pipe(Effect.provide(Layer.merge(client, quiet)))
        expect(summary.raw_events).toBe(history.length)

        const stored = yield* Effect.flatMap(EventStore, (store) =>
          Effect.all({
            raw: Effect.map(Stream.runCollect(store.readBucket(SCAN_BUCKET, 0)), Chunk.toReadonlyArray),
            derived: Effect.map(Stream.runCollect(store.readBucket(EVAL_BUCKET, 0)), Chunk.toReadonlyArray),
          }),
        ).pipe(Effect.provide(server.direct))
        expect(stored.raw.map((e) => e.event_id)).toEqual(history.map((a) => a.event.event_id))
        const same = (events: ReadonlyArray<StoredEvent>) =>
          events.map((e) => [e.aggregate_type, e.aggregate_id, e.position, e.event_id, e.event_type, e.payload])
        expect(same(stored.derived)).toEqual(same(reference))
        expect(Object.values(proxy.stats.faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(5)
      }),
    120_000,
  )
})
