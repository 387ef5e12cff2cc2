// Retrying what may pass on a second try (connect errors, resets, timeouts, 429, 5xx): a capped,
// jittered exponential schedule that waits at least as long as the server's `Retry-After` asks.
import { Duration, Schedule } from "effect"
import type { StoreError } from "./event-store.js"

export interface RetryPolicy {
  /** First delay; each next one doubles (before jitter). */
  readonly baseMillis: number
  /** No single delay exceeds this (unless Retry-After asks for more, up to `maxRetryAfterMillis`). */
  readonly capMillis: number
  /** Retries after the first attempt; 0 disables retrying. */
  readonly maxRetries: number
  /** A longer Retry-After is cut to this, so a confused server cannot park us for hours. */
  readonly maxRetryAfterMillis: number
}

export const defaultRetryPolicy: RetryPolicy = {
  baseMillis: 100,
  capMillis: 5_000,
  maxRetries: 6,
  maxRetryAfterMillis: 30_000,
}

/** What a transient StoreError may carry in `cause` when the server said how long to wait. */
export interface RetryAfterHint {
  readonly retryAfterMillis: number
}

const retryAfterOf = (error: StoreError): number | undefined => {
  const cause = error.cause
  if (typeof cause === "object" && cause !== null && "retryAfterMillis" in cause) {
    const ms = (cause as RetryAfterHint).retryAfterMillis
    return typeof ms === "number" && Number.isFinite(ms) && ms >= 0 ? ms : undefined
  }
  return undefined
}

/**
 * `Retry-After` is either delta-seconds or an HTTP date; `nowMillis` comes from the caller's
 * Clock. Undefined when absent or unreadable.
 */
export const parseRetryAfter = (value: string | undefined, nowMillis: number): number | undefined => {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  const at = Date.parse(trimmed)
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMillis)
}

/** The schedule: only transient errors recur, at most `maxRetries` times. */
export const transientSchedule = (policy: RetryPolicy = defaultRetryPolicy) =>
  Schedule.exponential(Duration.millis(policy.baseMillis), 2).pipe(
    Schedule.jittered,
    Schedule.modifyDelay((_, delay) => Duration.min(delay, Duration.millis(policy.capMillis))),
    Schedule.intersect(Schedule.recurs(policy.maxRetries)),
    Schedule.intersect(Schedule.identity<StoreError>()),
    Schedule.modifyDelay(([, error], delay) => {
      const asked = retryAfterOf(error)
      return asked === undefined
        ? delay
        : Duration.max(delay, Duration.millis(Math.min(asked, policy.maxRetryAfterMillis)))
    }),
    Schedule.whileInput((error: StoreError) => error.transient),
  )
