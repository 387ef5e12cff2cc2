// `xmon store serve`: share one store between machines over the Umrath protocol.
// The handler needs only the EventStore (provided from `--store` by the caller) and a FileSystem.
import { Command, Options } from "@effect/cli"
import { FileSystem } from "@effect/platform"
import { Config, Effect, Option } from "effect"
import { serveStore } from "../store/server.js"
import { UsageError } from "./errors.js"
import { storeOption } from "./store-option.js"

const listen = Options.text("listen").pipe(
  Options.withDescription("HOST:PORT to listen on ([::1]:PORT for IPv6); port 0 picks a free one"),
  Options.withDefault("127.0.0.1:8080"),
)
const tokenFile = Options.file("token-file", { exists: "yes" }).pipe(
  Options.withDescription("File holding the token clients must send as Authorization: Bearer (the first line)"),
  Options.optional,
)
const project = Options.text("project").pipe(
  Options.withDescription("The project id served, as in UMRATH_PROJECT_ID"),
  Options.withFallbackConfig(Config.string("UMRATH_PROJECT_ID")),
  Options.withDefault("ezop"),
)
const maxBody = Options.integer("max-body-mib").pipe(
  Options.withDescription("Largest request body accepted, in MiB"),
  Options.withDefault(10),
)

/** `127.0.0.1:8080`, `[::1]:8080`, `localhost:0`. */
export const parseListen = (value: string): Option.Option<{ readonly host: string; readonly port: number }> => {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value.trim())
  if (!match) return Option.none()
  const port = Number(match[3])
  const host = match[1] ?? match[2]
  return host === undefined || port > 65535 ? Option.none() : Option.some({ host, port })
}

const isLoopback = (host: string) => host === "localhost" || host === "::1" || /^127\./.test(host)

export const serveCommand = Command.make(
  "serve",
  { listen, tokenFile, project, maxBody, store: storeOption },
  (o) =>
    Effect.gen(function* () {
      const address = yield* Option.match(parseListen(o.listen), {
        onNone: () => Effect.fail(new UsageError({ message: `--listen ${JSON.stringify(o.listen)}: expected HOST:PORT` })),
        onSome: Effect.succeed,
      })
      if (o.maxBody < 1) return yield* new UsageError({ message: "--max-body-mib must be at least 1" })
      const token = yield* Option.match(o.tokenFile, {
        onNone: () => Effect.succeed(undefined),
        onSome: (path) =>
          Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readFileString(path)).pipe(
            Effect.map((text) => text.split(/\r?\n/)[0]?.trim() ?? ""),
            Effect.flatMap((t) =>
              t.length > 0 ? Effect.succeed(t) : Effect.fail(new UsageError({ message: `--token-file ${path} is empty` })),
            ),
          ),
      })
      if (!isLoopback(address.host) && token === undefined) {
        yield* Effect.logWarning(`listening on ${address.host} without a token: anyone who can reach it can write`)
      }
      const running = yield* serveStore({
        host: address.host,
        port: address.port,
        project: o.project,
        maxBodyBytes: o.maxBody * 1024 * 1024,
        ...(token === undefined ? {} : { token }),
      })
      yield* Effect.logInfo(
        `serving project ${o.project} at ${running.url}${token === undefined ? "" : " (token required)"}; Ctrl-C stops`,
      )
      return yield* Effect.never
    }).pipe(Effect.scoped),
).pipe(
  Command.withDescription(
    "Serve the event store over the Umrath HTTP protocol, so scanners elsewhere can use --store umrath:http://HOST:PORT",
  ),
)
