// Through a proxy that fails 30 % of requests (503, reset, stall, reset after the work was done),
// appending a few thousand events in batches and reading them back stores every event exactly once.
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Stream } from "effect"
import { join } from "node:path"
import type { Addressed, StreamRef } from "../../src/events/envelope.js"
import { EventStore } from "../../src/store/event-store.js"
import { UmrathEventStore } from "../../src/store/umrath.js"
import { startFaultProxy } from "../support/fault-proxy.js"
import { startTestServer } from "../support/store-server.js"

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
})
