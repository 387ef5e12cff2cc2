// A `xmon store serve` over a fresh SQLite file in a temporary directory, on a free loopback port,
// for as long as the scope lives; and an Umrath client layer pointed at it.
import { Effect, Layer } from "effect"
import type { Scope } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { EventStore, StoreError } from "../../src/store/event-store.js"
import type { RetryPolicy } from "../../src/store/retry.js"
import { serveStore } from "../../src/store/server.js"
import type { StoreServerOptions } from "../../src/store/server.js"
import { SqliteEventStore } from "../../src/store/sqlite.js"
import { UmrathEventStore } from "../../src/store/umrath.js"
import type { UmrathConfig } from "../../src/store/umrath.js"

/** Short waits so that tests of failure paths end quickly. */
export const fastRetry: Partial<RetryPolicy> = { baseMillis: 5, capMillis: 50, maxRetries: 8, maxRetryAfterMillis: 2_000 }

export const scopedTempDir = (prefix: string): Effect.Effect<string, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), prefix))),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true })),
  )

const asStoreError = (cause: unknown) =>
  new StoreError({ store: "test-server", operation: "serve", message: String(cause), transient: false, cause })

export interface TestServer {
  readonly url: string
  readonly dir: string
  readonly dbPath: string
  /** The server's own store, for looking behind its back. */
  readonly direct: Layer.Layer<EventStore>
}

/** Server over `dir/events.db` (a new temp dir unless given), port 0 on 127.0.0.1. */
export const startTestServer = (
  options: StoreServerOptions & { readonly dir?: string } = {},
): Effect.Effect<TestServer, StoreError, Scope.Scope> =>
  Effect.gen(function* () {
    const dir = options.dir ?? (yield* scopedTempDir("xmon-store-server-"))
    const dbPath = join(dir, "events.db")
    const context = yield* Layer.build(SqliteEventStore.layer(dbPath))
    const server = yield* serveStore({ port: 0, ...options }).pipe(
      Effect.provide(context),
      Effect.mapError(asStoreError),
    )
    return { url: server.url, dir, dbPath, direct: Layer.succeedContext(context) }
  })

/** A fresh server and an Umrath client on it, both living as long as the layer. */
export const umrathOverTestServer = (config: UmrathConfig = {}): Layer.Layer<EventStore, StoreError> =>
  Layer.unwrapScoped(
    Effect.map(startTestServer(), (server) =>
      UmrathEventStore.layer({
        url: server.url,
        checkpointFile: join(server.dir, "checkpoint.json"),
        retry: fastRetry,
        ...config,
      }),
    ),
  )
