#!/usr/bin/env node
// The program's edge: the only place that provides the platform and runs an effect.
import { ValidationError } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Cause, Console, Effect, Exit, Layer, Logger } from "effect"
import { cli } from "./cli/index.js"
import { INPUT_ERROR_TAGS } from "./cli/errors.js"

// `xmon events | head`: a reader that stops early is not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0)
  throw error
})

/** Logs go to stderr: stdout holds results only, so `xmon … --json | jq` works. */
const stderrLogger = Logger.replace(
  Logger.defaultLogger,
  Logger.make(({ logLevel, message }) => {
    const text = Array.isArray(message) ? message.map(String).join(" ") : String(message)
    process.stderr.write(`xmon ${logLevel.label.toLowerCase()}: ${text}\n`)
  }),
)

const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : typeof error === "object" && error !== null ? JSON.stringify(error) : String(error)

/** A typed failure: say what went wrong on stderr, and choose the exit code (2 for bad input). */
const report = (error: unknown) => {
  const tag = (error as { _tag?: string } | null)?._tag ?? ""
  const code = ValidationError.isValidationError(error) || INPUT_ERROR_TAGS.has(tag) ? 2 : 1
  // @effect/cli has already printed its own usage errors; `handle` has printed its answer.
  const said = ValidationError.isValidationError(error) || tag === "AnswerFailed"
  const say = said ? Effect.void : Console.error(`xmon: ${messageOf(error)}`)
  return Effect.zipRight(say, Effect.fail(code))
}

/** Anything else (a bug, not a bad input): print the whole cause, exit 1. */
const reportDefect = (cause: Cause.Cause<number>) =>
  Cause.isFailType(cause) || Cause.isInterruptedOnly(cause)
    ? Effect.failCause(cause)
    : Effect.zipRight(Console.error(`xmon: internal error\n${Cause.pretty(cause)}`), Effect.fail(1))

/** NO_COLOR (https://no-color.org), or output that is not a terminal: help and errors without ANSI colours. */
const plain = process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "" ? true : !process.stdout.isTTY
const ANSI = /\x1b\[[0-9;]*m/g
const strip = (xs: ReadonlyArray<unknown>) => xs.map((x) => (typeof x === "string" ? x.replace(ANSI, "") : x))
const withPlainConsole = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Console.consoleWith((current) =>
    Console.withConsole(effect, {
      ...current,
      log: (...xs) => current.log(...strip(xs)),
      error: (...xs) => current.error(...strip(xs)),
    }),
  )

const program = cli(process.argv).pipe(
  Effect.catchAll(report),
  Effect.catchAllCause(reportDefect),
  Effect.provide(Layer.merge(NodeContext.layer, stderrLogger)),
  (effect) => (plain ? withPlainConsole(effect) : effect),
)

NodeRuntime.runMain(program, {
  disableErrorReporting: true,
  teardown: (exit, onExit) => {
    if (Exit.isSuccess(exit)) return onExit(0)
    const code = Cause.failureOption(exit.cause as Cause.Cause<number>)
    onExit(code._tag === "Some" ? code.value : 130)
  },
})
