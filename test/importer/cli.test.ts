import { Command } from "@effect/cli"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, ConfigProvider, Console, Effect, Layer, Stream } from "effect"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll } from "vitest"
import { SCAN_BUCKET } from "../../src/events/envelope.js"
import { importHistoryCommand } from "../../src/cli/import-history.js"
import { importLegacyCommand } from "../../src/cli/import-legacy.js"
import { EventStore } from "../../src/store/event-store.js"
import { Outbox, outboxPathFor } from "../../src/store/outbox.js"
import { SqliteEventStore } from "../../src/store/sqlite.js"
import { scopedTempDir, startTestServer } from "../support/store-server.js"
import { snapshot1, snapshot2, T1, T2 } from "./history-fixture.js"
import { makePageRepo } from "./repo.js"

const root = mkdtempSync(join(tmpdir(), "xmon-import-cli-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const repo = makePageRepo(join(root, "output"))
const c1 = repo.commit(snapshot1, "one")
const c2 = repo.commit(snapshot2, "two")

let dbCount = 0
/** A fresh store file: the command opens it from `--store`, the test reads it through the layer. */
const freshStore = () => {
  const path = join(root, `events-${++dbCount}.db`)
  return { flag: ["--store", `sqlite:${path}`], layer: Layer.merge(SqliteEventStore.layer(path), NodeContext.layer) }
}

/** Run a command as a subcommand of `xmon`, as the root command wires it, with stdout and stderr captured. */
const run = <N extends string, R, E, A>(command: Command.Command<N, R, E, A>, args: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const stdout: Array<string> = []
    const stderr: Array<string> = []
    const current = yield* Console.consoleWith(Effect.succeed)
    const captured: Console.Console = {
      ...current,
      log: (...xs) => Effect.sync(() => void stdout.push(xs.join(" "))),
      error: (...xs) => Effect.sync(() => void stderr.push(xs.join(" "))),
    }
    const root = Command.make("xmon").pipe(Command.withSubcommands([command]))
    const cli = Command.run(root, { name: "xmon", version: "0.0.0" })
    const exit = yield* Effect.exit(cli(["node", "xmon", ...args]).pipe(Console.withConsole(captured)))
    return { exit, stdout: stdout.join("\n"), stderr: stderr.join("\n") }
  })

const storedCount = Effect.flatMap(EventStore, (s) => Stream.runCollect(s.readBucket(SCAN_BUCKET, 0))).pipe(
  Effect.map(Chunk.size),
)

describe("xmon import-history", () => {
  const args = ["import-history", "--repo", repo.dir, "--snapshot", `${c1}@${T1}`, "--snapshot", `${c2}@${T2}`]

  it.effect("--dry-run --json prints the plan as JSON on stdout, progress on stderr, and stores nothing", () => {
    const db = freshStore()
    return Effect.gen(function* () {
      const r = yield* run(importHistoryCommand, [...args, ...db.flag, "--dry-run", "--json"])
      expect(r.exit._tag).toBe("Success")
      const out = JSON.parse(r.stdout)
      expect(out).toMatchObject({ dry_run: true, planned: 10, stored: 0 })
      expect(out.events).toHaveLength(10)
      expect(r.stderr).toContain(`${c1}@${T1}: 8 pages, 5 events`)
      expect(yield* storedCount).toBe(0)
    }).pipe(Effect.provide(db.layer))
  })

  it.effect("appends, then appends nothing the second time, saying so", () => {
    const db = freshStore()
    return Effect.gen(function* () {
      const first = yield* run(importHistoryCommand, [...args, ...db.flag])
      expect(first.stdout).toContain("appended 10, already stored 0, of 10")
      const second = yield* run(importHistoryCommand, [...args, ...db.flag, "--json"])
      expect(JSON.parse(second.stdout)).toMatchObject({ stored: 0, duplicates: 10 })
      expect(yield* storedCount).toBe(10)
    }).pipe(Effect.provide(db.layer))
  })

  it.effect("refuses HEAD for the commit (it moves: tomorrow's scans would get today's ids), storing nothing", () => {
    const db = freshStore()
    return Effect.gen(function* () {
      const r = yield* run(importHistoryCommand, ["import-history", "--repo", repo.dir, "--snapshot", `HEAD@${T1}`, ...db.flag])
      expect(r.exit._tag).toBe("Failure")
      expect(JSON.stringify(r.exit)).toContain("SnapshotSpecError")
      expect(JSON.stringify(r.exit)).toContain("pass a commit hash")
      expect(yield* storedCount).toBe(0)
    }).pipe(Effect.provide(db.layer))
  })

  it.effect("fails with a SnapshotSpecError for a snapshot without a time", () => {
    const db = freshStore()
    return Effect.gen(function* () {
      const r = yield* run(importHistoryCommand, ["import-history", "--repo", repo.dir, "--snapshot", c1, ...db.flag])
      expect(r.exit._tag).toBe("Failure")
      expect(JSON.stringify(r.exit)).toContain("SnapshotSpecError")
      expect(yield* storedCount).toBe(0)
    }).pipe(Effect.provide(db.layer))
  })
})

describe("xmon import-legacy", () => {
  const output = join(root, "legacy-output")
  mkdirSync(join(output, "portscans"), { recursive: true })
  writeFileSync(join(output, "portscans", "ck1.md"), "---\n_type: portscan\nip: 192.0.2.1\nport: 443\n---\n")

  it.effect("reads the streams the --output pages name and reports the counts", () => {
    const db = freshStore()
    return Effect.gen(function* () {
      const store = yield* EventStore
      yield* store.append({ bucket: "recon", aggregate_type: "PortScan", aggregate_id: "ck1" }, [
        {
          event_id: "legacy-1",
          event_type: "CertificateDiscovered",
          payload: { ip: "192.0.2.1", port: 443, cert_serial: "0A1B", discovered_at: T1 },
          metadata: {},
        },
      ])
      const r = yield* run(importLegacyCommand, ["import-legacy", "--output", output, ...db.flag, "--json"])
      expect(JSON.parse(r.stdout)).toMatchObject({ streams: 1, legacy_events: 1, planned: 1, stored: 1 })
      const again = yield* run(importLegacyCommand, ["import-legacy", "--output", output, ...db.flag])
      expect(again.stdout).toContain("appended 0, already stored 1, of 1")
      expect(yield* storedCount).toBe(1)
    }).pipe(Effect.provide(db.layer))
  })
})

/** An event an earlier run could not store, left waiting in the outbox of `outputDir`. */
const parkOne = (outputDir: string) =>
  Effect.flatMap(Outbox, (o) =>
    o.park([
      {
        stream: { bucket: SCAN_BUCKET, aggregate_type: "HostnameScan", aggregate_id: "parked" },
        event: {
          event_id: "00000000-0000-4000-8000-000000000001",
          event_type: "HostnameScanResult",
          payload: { hostname: "parked.example.cz", addresses: [], dns_status: "nxdomain", scanned_at: T1 },
          metadata: {},
        },
      },
    ]),
  ).pipe(Effect.provide(Outbox.layer(outboxPathFor(outputDir))), Effect.scoped)

const pendingIn = (outputDir: string) =>
  Effect.flatMap(Outbox, (o) => o.pending).pipe(Effect.provide(Outbox.layer(outboxPathFor(outputDir))), Effect.scoped)

describe("--dry-run with events waiting in the outbox", () => {
  // Opening the outboxed store sends what waits: a dry run must not, and must not fail on it.
  const dryRunLeaves = <E, R>(
    runIt: (url: string) => Effect.Effect<{ readonly exit: { readonly _tag: string }; readonly stdout: string }, E, R>,
  ) =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir("xmon-dry-outbox-")
      yield* parkOne(dir)
      const server = yield* startTestServer()
      const r = yield* runIt(server.url).pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["EZRECON_OUTPUT_DIR", dir]]))),
      )
      expect(r.exit._tag).toBe("Success")
      expect(JSON.parse(r.stdout)).toMatchObject({ dry_run: true, stored: 0 })
      expect(yield* pendingIn(dir)).toBe(1)
      expect(yield* storedCount.pipe(Effect.provide(server.direct))).toBe(0)
    })

  it.scopedLive(
    "import-history sends nothing to the store and exits 0",
    () =>
      dryRunLeaves((url) =>
        run(importHistoryCommand, ["import-history", "--repo", repo.dir, "--snapshot", `${c1}@${T1}`, "--store", `umrath:${url}`, "--dry-run", "--json"]),
      ).pipe(Effect.provide(NodeContext.layer)),
    30_000,
  )

  it.scopedLive(
    "import-legacy sends nothing to the store and exits 0",
    () =>
      dryRunLeaves((url) =>
        run(importLegacyCommand, ["import-legacy", "--output", join(root, "legacy-output"), "--store", `umrath:${url}`, "--dry-run", "--json"]),
      ).pipe(Effect.provide(NodeContext.layer)),
    30_000,
  )
})
