// A store server in its own process, for tests that kill it: `node serve-child.mjs DB_PATH`.
// Uses the compiled modules in dist/ (`npm test` builds them first). Prints `{"url": …}` on stdout
// once listening, then serves until killed.
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect } from "effect"
import { serveStore } from "../../dist/store/server.js"
import { SqliteEventStore } from "../../dist/store/sqlite.js"

const dbPath = process.argv[2]
if (!dbPath) {
  console.error("usage: serve-child.mjs DB_PATH")
  process.exit(2)
}

const program = Effect.gen(function* () {
  const server = yield* serveStore({ port: 0 })
  yield* Console.log(JSON.stringify({ url: server.url }))
  return yield* Effect.never
}).pipe(Effect.scoped, Effect.provide(SqliteEventStore.layer(dbPath)))

NodeRuntime.runMain(program)
