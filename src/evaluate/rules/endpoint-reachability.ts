// EndpointBecameReachable / EndpointBecameUnreachable: tls_status between `ok` and a failure.
// `unknown` (or no status) is neither, and being the previous event it breaks a transition.
import type { DerivedEvent } from "../../events/derived.js"
import type { TlsScanResult } from "../../events/raw.js"
import { TLS_FAILURE_STATUSES } from "../../events/raw.js"
import { derive, endpointFields } from "../derive.js"
import type { Rule } from "../rule.js"
import { none } from "./support.js"

const OK = "ok"

/** Per endpoint stream: the tls_status of its previous scan. */
export type EndpointStatusState = Map<string, string | null>

const isFailure = (status: string | null | undefined): status is string =>
  status != null && TLS_FAILURE_STATUSES.has(status)

/** A rule that fires on one transition of an endpoint's tls_status from its previous scan's. */
const transition = (
  name: string,
  fires: (before: string | null | undefined, now: string | null) => boolean,
  derived: (event: TlsScanResult, now: string) => DerivedEvent,
): Rule<EndpointStatusState> => ({
  name,
  version: 1,
  init: () => new Map(),
  step: (previous, event) => {
    if (event.event_type !== "TlsScanResult") return [previous, none]
    const now = event.payload.tls_status ?? null
    const before = previous.get(event.aggregate_id)
    previous.set(event.aggregate_id, now)
    return fires(before, now) ? [previous, [derived(event, now!)]] : [previous, none]
  },
})

/** Previous tls_status a failure, now `ok`. */
export const endpointBecameReachable = transition(
  "EndpointBecameReachable",
  (before, now) => now === OK && isFailure(before),
  (event) => derive("EndpointBecameReachable", event, "EndpointBecameReachable", event.aggregate_id, endpointFields(event)),
)

/** Previous tls_status `ok`, now a failure; the payload names the failure. */
export const endpointBecameUnreachable = transition(
  "EndpointBecameUnreachable",
  (before, now) => before === OK && isFailure(now),
  (event, now) =>
    derive("EndpointBecameUnreachable", event, "EndpointBecameUnreachable", event.aggregate_id, {
      ...endpointFields(event),
      tls_status: now,
    }),
)
