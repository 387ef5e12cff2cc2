import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Layer, Logger, LogLevel, Option, Stream } from "effect"
import { EVAL_BUCKET, EVAL_METADATA, SCAN_BUCKET, SCAN_METADATA } from "../../src/events/envelope.js"
import { CHECKPOINT_NAME, SNAPSHOT_NAME } from "../../src/evaluate/checkpoint.js"
import { decodeStored } from "../../src/evaluate/decode.js"
import { foldEvents } from "../../src/evaluate/fold.js"
import { makeRules, rules } from "../../src/evaluate/rules/index.js"
import { runEvaluation } from "../../src/evaluate/runner.js"
import { EventStore } from "../../src/store/event-store.js"
import { SqliteEventStore } from "../../src/store/sqlite.js"
import { comparable, fixtureHistory, readAll, tempDir } from "../support/stores.js"

const temp = tempDir("xmon-runner-")
const history = fixtureHistory()
const quiet = Logger.minimumLogLevel(LogLevel.None)
const sqlite = (path = temp.file()) => Layer.merge(SqliteEventStore.layer(path), quiet)

const appendHistory = (from: number, to: number) =>
  Effect.flatMap(EventStore, (store) => store.appendBatch(history.slice(from, to)))

/** recon-eval without the store's own bookkeeping (global positions interleave with raw events). */
const evalEvents = readAll(EVAL_BUCKET).pipe(
  Effect.map((events) => comparable(events).map(({ global_position: _g, ...rest }) => rest)),
)

/** One full evaluation of the whole fixture history in a fresh store: the reference. */
const reference = Effect.gen(function* () {
  yield* appendHistory(0, history.length)
  yield* runEvaluation({ rules })
  return yield* evalEvents
}).pipe(Effect.provide(sqlite()))

describe("runEvaluation over SQLite", () => {
  it.effect("appends to recon-eval exactly what the pure fold derives, in fold order", () =>
    Effect.gen(function* () {
      yield* appendHistory(0, history.length)
      const summary = yield* runEvaluation({ rules })
      const raw = yield* readAll(SCAN_BUCKET)
      const expected = foldEvents(rules, raw.map((e) => Either.getOrThrow(decodeStored(e))!)).derived
      const stored = yield* evalEvents
      expect(expected.length).toBeGreaterThan(20)
      expect(stored.map((e) => e.event_id)).toEqual(expected.map((e) => e.event_id))
      for (const [i, e] of stored.entries()) {
        expect(e).toMatchObject({
          bucket: EVAL_BUCKET,
          aggregate_type: expected[i]!.aggregate_type,
          aggregate_id: expected[i]!.aggregate_id,
          event_type: expected[i]!.event_type,
          payload: expected[i]!.payload,
          metadata: EVAL_METADATA,
        })
      }
      expect(summary).toMatchObject({ mode: "full", raw_events: history.length, stored: expected.length, duplicates: 0 })
      expect(Object.values(summary.derived).reduce((a, b) => a + b, 0)).toBe(expected.length)
      expect(summary.checkpoint.global_position).toBe(history.length)
    }).pipe(Effect.provide(sqlite())),
  )

  for (const splits of [[1], [17, 18], [100, 250], [164], [329], [40, 80, 120, 160, 200, 240, 280, 320]]) {
    it.effect(`runs split at ${splits.join(", ")} leave recon-eval identical to one full run`, () =>
      Effect.gen(function* () {
        const full = yield* reference
        let from = 0
        for (const at of [...splits, history.length]) {
          yield* appendHistory(from, at)
          // Small commits, so the runs also cross their own commit boundaries.
          const summary = yield* runEvaluation({ rules, commitEvery: 7, batchSize: 3 })
          expect(summary.new_raw_events).toBe(at - from)
          expect(summary.mode).toBe(from === 0 ? "full" : "incremental")
          from = at
        }
        expect(yield* evalEvents).toEqual(full)
      }).pipe(Effect.provide(sqlite())),
    )
  }

  it.effect("an incremental run resumes from the snapshot and folds only the new events", () =>
    Effect.gen(function* () {
      yield* appendHistory(0, 200)
      yield* runEvaluation({ rules })
      yield* appendHistory(200, history.length)
      const second = yield* runEvaluation({ rules })
      expect(second).toMatchObject({ mode: "incremental", resumed_from: 200, raw_events: 130, new_raw_events: 130 })
    }).pipe(Effect.provide(sqlite())),
  )

  it.effect("a damaged snapshot is passed over: the fold starts at zero and the output is the same", () =>
    Effect.gen(function* () {
      const full = yield* reference
      const store = yield* EventStore
      yield* appendHistory(0, 150)
      yield* runEvaluation({ rules })
      yield* store.saveCheckpoint({ name: SNAPSHOT_NAME, value: '{"format":"xmon.evaluate.snapshot"' })
      yield* appendHistory(150, history.length)
      const second = yield* runEvaluation({ rules })
      expect(second).toMatchObject({ mode: "incremental", resumed_from: 0, raw_events: history.length, new_raw_events: 180 })
      expect(yield* evalEvents).toEqual(full)
    }).pipe(Effect.provide(sqlite())),
  )

  it.effect("--replay twice adds nothing: every derived event is already stored", () =>
    Effect.gen(function* () {
      yield* appendHistory(0, history.length)
      const first = yield* runEvaluation({ rules })
      const before = yield* readAll(EVAL_BUCKET)
      const again = yield* runEvaluation({ rules, replay: true })
      const third = yield* runEvaluation({ rules, replay: true })
      expect(again).toMatchObject({ mode: "replay", stored: 0, duplicates: first.stored })
      expect(third).toMatchObject({ stored: 0, duplicates: first.stored })
      expect(yield* readAll(EVAL_BUCKET)).toEqual(before)
    }).pipe(Effect.provide(sqlite())),
  )

  it.effect("a changed rule set rebuilds from zero and applies the new rules to the whole history", () =>
    Effect.gen(function* () {
      yield* appendHistory(0, history.length)
      yield* runEvaluation({ rules })
      const before = new Set((yield* readAll(EVAL_BUCKET)).map((e) => e.event_id))
      const wider = makeRules({ expiryThresholds: [60, 30, 14, 7, 1] })
      const summary = yield* runEvaluation({ rules: wider })
      expect(summary.mode).toBe("full")
      expect(summary.reason).toContain("rule set changed")
      expect(summary.raw_events).toBe(history.length)
      const after = yield* readAll(EVAL_BUCKET)
      const added = after.filter((e) => !before.has(e.event_id))
      expect(added.length).toBe(summary.stored)
      expect(added.some((e) => e.payload.threshold_days === 60)).toBe(true)
      // Everything a fresh evaluation with the new rules derives is there.
      const expected = foldEvents(wider, (yield* readAll(SCAN_BUCKET)).map((e) => Either.getOrThrow(decodeStored(e))!))
      const ids = new Set(after.map((e) => e.event_id))
      expect(expected.derived.every((d) => ids.has(d.event_id))).toBe(true)
    }).pipe(Effect.provide(sqlite())),
  )

  it.effect("event types the rules do not know pass the fold untouched", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      yield* appendHistory(0, 50)
      yield* store.append({ bucket: SCAN_BUCKET, aggregate_type: "PtrScan", aggregate_id: "ipv4-1" }, [
        { event_id: "ptr-1", event_type: "PtrScanResult", payload: { ptr: "x.example" }, metadata: { ...SCAN_METADATA } },
      ])
      yield* appendHistory(50, history.length)
      const summary = yield* runEvaluation({ rules })
      expect(summary).toMatchObject({ raw_events: history.length, skipped_invalid: 0 })
      expect(yield* evalEvents).toEqual(yield* reference)
    }).pipe(Effect.provide(sqlite())),
  )
})

describe("a store whose order is a merge (like Umrath's)", () => {
  /** SQLite underneath, but the bucket read in scanned_at order, renumbered 1..n, as Umrath merges. */
  const merged = (path: string) =>
    Layer.effect(
      EventStore,
      Effect.map(EventStore, (inner) => ({
        ...inner,
        readBucket: (bucket: string, after: number) =>
          Stream.unwrap(
            Effect.map(Stream.runCollect(inner.readBucket(bucket, 0)), (all) =>
              Stream.fromIterable(
                [...all]
                  .sort((a, b) => String(a.payload.scanned_at).localeCompare(String(b.payload.scanned_at)) || a.global_position - b.global_position)
                  .map((e, i) => ({ ...e, global_position: i + 1 }))
                  .slice(after),
              ),
            ),
          ),
      })),
    ).pipe(Layer.provide(SqliteEventStore.layer(path)), Layer.merge(quiet))

  it.effect("a late event merged in before the snapshot's end: the run folds from zero and matches a full fold", () =>
    Effect.gen(function* () {
      const late = history.findIndex((e) => e.stream.aggregate_type === "HostnameScan" && e.stream.aggregate_id === "flaky-alpha")
      const rest = history.filter((_, i) => i !== late)
      yield* Effect.flatMap(EventStore, (s) => s.appendBatch(rest))
      const first = yield* runEvaluation({ rules })
      expect(first.mode).toBe("full")
      const before = (yield* readAll(EVAL_BUCKET)).map((e) => e.event_id)
      // The late observation arrives now, but sorts among the oldest.
      yield* Effect.flatMap(EventStore, (s) => s.appendBatch([history[late]!]))
      const second = yield* runEvaluation({ rules })
      expect(second).toMatchObject({ mode: "incremental", resumed_from: 0, raw_events: history.length })
      // recon-eval now holds what the first run derived (history is never rewritten) and what a
      // full fold of the new order derives: exactly those, nothing else.
      const raw = yield* readAll(SCAN_BUCKET)
      const after = foldEvents(rules, raw.map((e) => Either.getOrThrow(decodeStored(e))!)).derived.map((d) => d.event_id)
      const stored = (yield* readAll(EVAL_BUCKET)).map((e) => e.event_id)
      expect(new Set(stored)).toEqual(new Set([...before, ...after]))
      expect(stored.length).toBe(new Set(stored).size)
    }).pipe(Effect.provide(merged(temp.file()))),
  )
})

describe("bad input", () => {
  const broken = Effect.gen(function* () {
    const store = yield* EventStore
    yield* appendHistory(0, 40)
    yield* store.append({ bucket: SCAN_BUCKET, aggregate_type: "HostnameScan", aggregate_id: "www-alpha" }, [
      {
        event_id: "broken-1",
        event_type: "HostnameScanResult",
        payload: { hostname: 42, addresses: [], scanned_at: "2025-03-01T00:00:00Z" },
        metadata: { ...SCAN_METADATA },
      },
    ])
    yield* appendHistory(40, history.length)
    return (yield* readAll(SCAN_BUCKET)).find((e) => e.event_id === "broken-1")!
  })

  it.effect("a raw event that fails its schema stops evaluate, naming bucket, stream, position and field", () =>
    Effect.gen(function* () {
      const stored = yield* broken
      const error = yield* Effect.flip(runEvaluation({ rules }))
      expect(error._tag).toBe("InvalidRawEvent")
      expect(error).toMatchObject({
        bucket: SCAN_BUCKET,
        stream: "HostnameScan/www-alpha",
        position: stored.position,
        global_position: stored.global_position,
        field: "payload.hostname",
      })
      expect(error.message).toContain(`recon-scan/HostnameScan/www-alpha at position ${stored.position}`)
      expect(yield* readAll(EVAL_BUCKET)).toEqual([])
      expect(Option.isNone(yield* Effect.flatMap(EventStore, (s) => s.loadCheckpoint(CHECKPOINT_NAME)))).toBe(true)
    }).pipe(Effect.provide(sqlite())),
  )

  it.effect("--skip-invalid reports and counts it, and evaluates the rest", () =>
    Effect.gen(function* () {
      yield* broken
      const summary = yield* runEvaluation({ rules, skipInvalid: true })
      expect(summary.skipped_invalid).toBe(1)
      expect(summary.invalid[0]).toContain("payload.hostname")
      expect(summary.raw_events).toBe(history.length)
      expect(summary.stored).toBeGreaterThan(20)
    }).pipe(Effect.provide(sqlite())),
  )

  for (const [what, value, says] of [
    ["a corrupt checkpoint", '{"format": "xmon.evaluate.check', "not JSON"],
    ["the original's checkpoint (counts per stream)", '{"DomainScan/nic-cz": 3, "TlsScan/x": 9}', "not an xmon evaluate checkpoint"],
    ["a checkpoint of a newer format", '{"format":"xmon.evaluate.checkpoint","version":2,"fingerprint":"x","global_position":1,"streams":{}}', "version"],
  ] as const) {
    it.effect(`${what} is refused with a clear message; --replay rebuilds it`, () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        yield* appendHistory(0, history.length)
        yield* store.saveCheckpoint({ name: CHECKPOINT_NAME, value })
        const error = yield* Effect.flip(runEvaluation({ rules }))
        expect(error._tag).toBe("CheckpointError")
        expect(error.message).toContain(says)
        expect(error.message).toContain("--replay")
        expect(yield* readAll(EVAL_BUCKET)).toEqual([])
        const replay = yield* runEvaluation({ rules, replay: true })
        expect(replay.stored).toBeGreaterThan(20)
        const next = yield* runEvaluation({ rules })
        expect(next).toMatchObject({ mode: "incremental", new_raw_events: 0, stored: 0 })
      }).pipe(Effect.provide(sqlite())),
    )
  }
})
