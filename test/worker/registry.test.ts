import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Logger, LogLevel } from "effect"
import { EVAL_BUCKET } from "../../src/events/envelope.js"
import { CHECKPOINT_NAME } from "../../src/evaluate/checkpoint.js"
import { EventStore } from "../../src/store/event-store.js"
import { SqliteEventStore } from "../../src/store/sqlite.js"
import { handle, workerCommands } from "../../src/worker/registry.js"
import { fixtureHistory, readAll, tempDir } from "../support/stores.js"

const temp = tempDir("xmon-worker-")
const store = () => Layer.merge(SqliteEventStore.layer(temp.file()), Logger.minimumLogLevel(LogLevel.None))
const withHistory = Effect.flatMap(EventStore, (s) => s.appendBatch(fixtureHistory()))

describe("worker registry", () => {
  it("registers ezrecon.evaluate and no placeholder for the scans not built yet", () => {
    expect(Object.keys(workerCommands)).toEqual(["ezrecon.evaluate"])
  })

  it.effect("ezrecon.evaluate answers { success: true, result: counts }; { replay: true } re-emits idempotently", () =>
    Effect.gen(function* () {
      yield* withHistory
      const first = yield* handle("ezrecon.evaluate", {})
      expect(first.success).toBe(true)
      if (!first.success) return
      expect(first.result).toMatchObject({ mode: "full", raw_events: 330, duplicates: 0 })
      const stored = (yield* readAll(EVAL_BUCKET)).length
      expect(first.result.stored).toBe(stored)
      const replay = yield* handle("ezrecon.evaluate", { replay: true })
      expect(replay).toMatchObject({ success: true, result: { mode: "replay", stored: 0, duplicates: stored } })
    }).pipe(Effect.provide(store())),
  )

  it.effect("failures keep the original's envelope: code, message, details.error_class", () =>
    Effect.gen(function* () {
      yield* withHistory
      expect(yield* handle("ezrecon.scan_all", {})).toMatchObject({
        success: false,
        failure: { code: "unknown_command", details: { error_class: "UnknownCommand" } },
      })
      const bad = yield* handle("ezrecon.evaluate", { replay: "yes" })
      expect(bad).toMatchObject({ success: false, failure: { code: "evaluate_failed", details: { error_class: "InvalidPayload" } } })
      expect(bad.success ? "" : bad.failure.message).toContain("replay")
      yield* Effect.flatMap(EventStore, (s) => s.saveCheckpoint({ name: CHECKPOINT_NAME, value: "{}" }))
      const refused = yield* handle("ezrecon.evaluate", {})
      expect(refused).toMatchObject({ success: false, failure: { code: "evaluate_failed", details: { error_class: "CheckpointError" } } })
      expect(refused.success ? "" : refused.failure.message).toContain("--replay")
    }).pipe(Effect.provide(store())),
  )
})
