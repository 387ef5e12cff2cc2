// The evaluator's core: every rule folded over the ordered raw events. Pure.
import { Stream } from "effect"
import type { DerivedEvent } from "../events/derived.js"
import type { RawEvent } from "../events/raw.js"
import type { Rule } from "./rule.js"

/** The states of a rule set, one per rule, in the rule set's order. */
export type FoldState = ReadonlyArray<unknown>

/** What one raw event led to. */
export interface Emission {
  readonly source: RawEvent
  readonly derived: ReadonlyArray<DerivedEvent>
}

/** A private copy of a state, so that resuming never changes the caller's (rules update in place). */
const own = (state: FoldState): Array<unknown> => structuredClone([...state])

export const initialState = (rules: ReadonlyArray<Rule>): FoldState => rules.map((r) => r.init())

/**
 * One step of every rule, in rule order. Returns the next states (the same array, updated:
 * the fold owns it) and the derived events in rule order.
 */
export const stepRules = (
  rules: ReadonlyArray<Rule>,
  states: Array<unknown>,
  event: RawEvent,
): ReadonlyArray<DerivedEvent> => {
  let out: Array<DerivedEvent> | undefined
  for (let i = 0; i < rules.length; i++) {
    const [next, derived] = rules[i]!.step(states[i], event)
    states[i] = next
    if (derived.length > 0) (out ??= []).push(...derived)
  }
  return out ?? []
}

/** Fold a finite history at once: the library entry point for tests and other programs. */
export const foldEvents = (
  rules: ReadonlyArray<Rule>,
  events: Iterable<RawEvent>,
  from: FoldState = initialState(rules),
): { readonly state: FoldState; readonly derived: ReadonlyArray<DerivedEvent> } => {
  const states = own(from)
  const derived: Array<DerivedEvent> = []
  for (const event of events) derived.push(...stepRules(rules, states, event))
  return { state: states, derived }
}

/**
 * The fold as a stream transformer (`Stream.mapAccum`): each raw event paired with what it
 * derived. `from` resumes from a saved state; the fold copies it, never mutates the caller's.
 */
export const evaluate =
  (rules: ReadonlyArray<Rule>, from: FoldState = initialState(rules)) =>
  <E, R>(raw: Stream.Stream<RawEvent, E, R>): Stream.Stream<Emission, E, R> =>
    Stream.suspend(() => foldInto(rules, own(from))(raw))

/**
 * Like `evaluate`, but folding into `states`, which the caller owns and reads when the stream
 * ends (the runner saves it as a snapshot). Do not share `states` with anything else.
 */
export const foldInto =
  (rules: ReadonlyArray<Rule>, states: Array<unknown>) =>
  <E, R>(raw: Stream.Stream<RawEvent, E, R>): Stream.Stream<Emission, E, R> =>
    raw.pipe(Stream.mapAccum(states, (s, event) => [s, { source: event, derived: stepRules(rules, s, event) }]))
