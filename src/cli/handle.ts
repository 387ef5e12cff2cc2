// `xmon handle <command> [payload-json]`: the worker registry for any job runner (cron, systemd,
// a queue worker). Prints the answer as JSON on stdout; exits 1 when the answer is a failure.
import { Args, Command } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { failure, failureCodeOf, handle, isWorkerCommand, unknownCommand, type WorkerAnswer } from "../worker/registry.js"
import { storeOption, storeWithOutbox } from "./store-option.js"

const command = Args.text({ name: "command" }).pipe(Args.withDescription("A worker command, e.g. ezrecon.evaluate"))
const payload = Args.text({ name: "payload-json" }).pipe(
  Args.optional,
  Args.withDescription(`The JSON payload, e.g. '{ "replay": true }' (default {})`),
)


/** Exit status for a printed answer: the job runner reads the JSON, the shell reads this. */
class AnswerFailed {
  readonly _tag = "AnswerFailed"
  readonly message = ""
}

export const handleCommand = Command.make("handle", { command, payload, store: storeOption }, (o) =>
  Effect.gen(function* () {
    // An unknown command is answered as such, before any store is opened.
    if (!isWorkerCommand(o.command)) {
      yield* Console.log(JSON.stringify(unknownCommand(o.command), null, 2))
      return yield* Effect.fail(new AnswerFailed())
    }
    let parsed: unknown = {}
    if (Option.isSome(o.payload)) {
      try {
        parsed = JSON.parse(o.payload.value)
      } catch (e) {
        const answer = failure(failureCodeOf(o.command), new Error(`payload is not JSON: ${(e as Error).message}`), {
          error_class: "InvalidPayload",
        })
        yield* Console.log(JSON.stringify(answer, null, 2))
        return yield* Effect.fail(new AnswerFailed())
      }
    }
    const answer: WorkerAnswer = yield* handle(o.command, parsed).pipe(
      Effect.provide(storeWithOutbox(o.store, { mustExist: true })),
      Effect.catchAll((e) => Effect.succeed(failure(failureCodeOf(o.command), e))),
    )
    yield* Console.log(JSON.stringify(answer, null, 2))
    if (!answer.success) return yield* Effect.fail(new AnswerFailed())
  }),
).pipe(
  Command.withDescription(
    "Run a worker command (ezrecon.evaluate; payload {\"replay\": true}) and print { success, result | failure } as JSON",
  ),
)
