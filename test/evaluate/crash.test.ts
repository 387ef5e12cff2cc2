// Crash safety: `xmon evaluate` killed with SIGKILL at random points, then run again, leaves
// recon-eval exactly as one uninterrupted run does. Runs the built CLI (`npm test` builds first).
import { Effect, Layer, Logger, LogLevel } from "effect"
import { spawn } from "node:child_process"
import { copyFileSync, existsSync, rmSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { shapeFor, syntheticHistory } from "../../bench/synthetic.js"
import { EVAL_BUCKET } from "../../src/events/envelope.js"
import { EventStore } from "../../src/store/event-store.js"
import { SqliteEventStore } from "../../src/store/sqlite.js"
import { comparable, readAll, tempDir } from "../support/stores.js"

const MAIN = fileURLToPath(new URL("../../dist/main.js", import.meta.url))
const EVENTS = 40_000
const TRIALS = 20
const temp = tempDir("xmon-crash-")

const inStore = <A, E>(path: string, effect: Effect.Effect<A, E, EventStore>) =>
  Effect.runPromise(
    effect.pipe(Effect.provide(Layer.merge(SqliteEventStore.layer(path), Logger.minimumLogLevel(LogLevel.None)))),
  )

/** Runs `xmon evaluate` and, if `killAfterMs` is given, SIGKILLs it then; says how it ended. */
const evaluate = (db: string, killAfterMs?: number) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [MAIN, "evaluate", "--store", `sqlite:${db}`, "--commit-every", "500"], {
      stdio: ["ignore", "ignore", "pipe"],
    })
    let stderr = ""
    child.stderr.on("data", (d) => (stderr += d))
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), killAfterMs)
    child.on("exit", (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stderr })
    })
  })

/** A seeded PRNG, so a failing run can be repeated with the same kill points. */
const prng = (seed: number) => () => {
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed / 2147483648
}

describe("evaluate killed with SIGKILL", () => {
  it("20 trials of kills at random points, then a full run: recon-eval equals an uninterrupted run's", { timeout: 240_000 }, async () => {
    expect(existsSync(MAIN)).toBe(true)
    const base = temp.file("base.db")
    await inStore(
      base,
      Effect.gen(function* () {
        const store = yield* EventStore
        for (const batch of syntheticHistory(EVENTS, shapeFor(EVENTS))) yield* store.appendBatch(batch)
      }),
    )
    const reference = temp.file("reference.db")
    copyFileSync(base, reference)

    const started = Date.now()
    const clean = await evaluate(reference)
    const fullRunMs = Date.now() - started
    expect(clean.code, clean.stderr).toBe(0)
    const expected = await inStore(reference, readAll(EVAL_BUCKET))
    expect(expected.length).toBeGreaterThan(1000)

    // Each trial: a fresh copy of the raw history, one or two kills at random points, then a run
    // to the end; recon-eval must come out exactly as the uninterrupted run left it.
    const random = prng(20261204)
    const want = comparable(expected).map(({ global_position: _g, ...e }) => e)
    let killedMidRun = 0
    let resumedAfterProgress = 0
    for (let trial = 0; trial < TRIALS; trial++) {
      const crashed = temp.file(`crashed-${trial}.db`)
      copyFileSync(base, crashed)
      // One or two kills per trial, each at a random point of the run; a run that finished before
      // its kill (the machine was quicker than the reference run) is tried again, killed sooner.
      for (let kill = 0; kill < 1 + (trial % 2); kill++) {
        let window = fullRunMs
        for (let attempt = 0; attempt < 6; attempt++, window /= 2) {
          const run = await evaluate(crashed, Math.floor(50 + random() * window))
          if (run.signal === "SIGKILL") {
            killedMidRun++
            break
          }
          expect(run.code, run.stderr).toBe(0)
        }
      }
      const partial = await inStore(crashed, readAll(EVAL_BUCKET))
      if (partial.length > 0 && partial.length < expected.length) resumedAfterProgress++
      const last = await evaluate(crashed)
      expect(last.code, last.stderr).toBe(0)
      const actual = await inStore(crashed, readAll(EVAL_BUCKET))
      expect(comparable(actual).map(({ global_position: _g, ...e }) => e)).toEqual(want)
      rmSync(crashed, { force: true })
    }
    // Most kills must land while the run is working, some after it had committed part of its
    // output, or the test proves little.
    expect(killedMidRun).toBeGreaterThanOrEqual(TRIALS)
    expect(resumedAfterProgress).toBeGreaterThanOrEqual(3)
  })
})
