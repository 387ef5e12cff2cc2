// What a rule is: a pure reducer over raw events with its own state.
import type { DerivedEvent } from "../events/derived.js"
import type { RawEvent } from "../events/raw.js"

/**
 * A rule folds raw events, one at a time, in the store's total order. `step` must be a function
 * of its arguments alone: no clock, no randomness, no I/O. For speed the fold hands `step` the
 * state it returned last time and never shares it, so `step` may update it in place and return it.
 * The state must survive `snapshot.encode`/`decode` (plain data, Map and Set), so that an
 * incremental run can resume from a saved state.
 */
export interface Rule<S = any> {
  readonly name: string
  /** Bump when the rule's output for some history changes: a new fingerprint forces a rebuild. */
  readonly version: number
  /** Settings that change the output (e.g. expiry thresholds): part of the fingerprint. */
  readonly params?: unknown
  /** A fresh state. */
  readonly init: () => S
  readonly step: (state: S, event: RawEvent) => readonly [S, ReadonlyArray<DerivedEvent>]
}

/** Names and versions of a rule set: a snapshot or checkpoint is only valid for the same one. */
export const fingerprint = (rules: ReadonlyArray<Rule>): string =>
  rules.map((r) => `${r.name}@${r.version}${r.params === undefined ? "" : JSON.stringify(r.params)}`).join(",")
