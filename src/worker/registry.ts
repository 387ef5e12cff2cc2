// The original's worker commands (`ezrecon.*`), as a registry any job runner can call:
// name -> handler taking the JSON payload and answering in the original's envelope.
import { Effect, ParseResult, Schema } from "effect"
import { makeRules } from "../evaluate/rules/index.js"
import { runEvaluation } from "../evaluate/runner.js"
import type { EventStore } from "../store/event-store.js"

export interface WorkerSuccess {
  readonly success: true
  readonly result: Readonly<Record<string, unknown>>
}
export interface WorkerFailure {
  readonly success: false
  readonly failure: {
    readonly code: string
    readonly message: string
    readonly details: { readonly error_class: string } & Readonly<Record<string, unknown>>
  }
}
export type WorkerAnswer = WorkerSuccess | WorkerFailure

/** A handler never fails: every error becomes a failure answer, as the job runner expects. */
export type WorkerHandler = (payload: unknown) => Effect.Effect<WorkerAnswer, never, EventStore>

export const failure = (code: string, error: unknown, details: Record<string, unknown> = {}): WorkerFailure => {
  const tag = (error as { _tag?: unknown } | null)?._tag
  const errorClass = typeof tag === "string" ? tag : error instanceof Error ? error.constructor.name : "Error"
  const message = error instanceof Error ? error.message : String(error)
  return { success: false, failure: { code, message, details: { error_class: errorClass, ...details } } }
}

/** The original's failure code of a command: `ezrecon.evaluate` -> `evaluate_failed`. */
export const failureCodeOf = (command: string): string => `${command.replace(/^ezrecon\./, "")}_failed`

/** The payload of `ezrecon.evaluate`: `{ "replay": true }` re-evaluates the whole history. */
export const EvaluatePayload = Schema.Struct({
  replay: Schema.optional(Schema.Boolean),
  skip_invalid: Schema.optional(Schema.Boolean),
  expiry_thresholds: Schema.optional(Schema.Array(Schema.Int.pipe(Schema.positive()))),
})

const decodePayload = <A, I>(schema: Schema.Schema<A, I>, code: string, payload: unknown) =>
  Schema.decodeUnknown(schema)(payload ?? {}).pipe(
    Effect.mapError((e) => {
      const issue = ParseResult.ArrayFormatter.formatErrorSync(e)[0]
      const where = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : ""
      return failure(code, new Error(`invalid payload: ${where}${issue?.message ?? "not an object"}`), {
        error_class: "InvalidPayload",
      })
    }),
  )

const evaluateHandler: WorkerHandler = (payload) =>
  Effect.gen(function* () {
    const code = failureCodeOf("ezrecon.evaluate")
    const p = yield* decodePayload(EvaluatePayload, code, payload)
    const summary = yield* runEvaluation({
      rules: makeRules(p.expiry_thresholds ? { expiryThresholds: p.expiry_thresholds } : {}),
      replay: p.replay ?? false,
      skipInvalid: p.skip_invalid ?? false,
    }).pipe(Effect.mapError((e) => failure(code, e)))
    return { success: true, result: { ...summary } } satisfies WorkerSuccess
  }).pipe(Effect.merge)

/**
 * The registry. Scanning commands (`ezrecon.scan_domains`, `…scan_hostnames`,
 * `…scan_certificates`, `…scan_all`) join it when scanning exists; until then they are unknown
 * commands rather than placeholders that pretend to work.
 */
export const workerCommands: Readonly<Record<string, WorkerHandler>> = {
  "ezrecon.evaluate": evaluateHandler,
}

/** The answer for a name the registry does not have. */
export const unknownCommand = (command: string): WorkerFailure =>
  failure("unknown_command", new Error(`unknown command ${JSON.stringify(command)}; known: ${Object.keys(workerCommands).join(", ")}`), {
    error_class: "UnknownCommand",
  })

export const isWorkerCommand = (command: string): boolean => Object.hasOwn(workerCommands, command)

/** Run one command by name; an unknown name is a failure answer like any other. */
export const handle = (command: string, payload: unknown): Effect.Effect<WorkerAnswer, never, EventStore> =>
  isWorkerCommand(command) ? workerCommands[command]!(payload) : Effect.succeed(unknownCommand(command))
