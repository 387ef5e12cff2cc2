// EndpointBecameReachable / EndpointBecameUnreachable: tls_status between `ok` and a failure.
// `unknown` (or no status) is neither, and being the previous event it breaks a transition.
import { TLS_FAILURE_STATUSES } from "../../events/raw.js"
import { derive, endpointFields } from "../derive.js"
import type { Rule } from "../rule.js"
import { none } from "./support.js"

const OK = "ok"

/** Per endpoint stream: the tls_status of its previous scan. */
export type EndpointStatusState = Map<string, string | null>

const isFailure = (status: string | null | undefined): status is string =>
  status != null && TLS_FAILURE_STATUSES.has(status)

/** Previous tls_status a failure, now `ok`. */
export const endpointBecameReachable: Rule<EndpointStatusState> = {
  name: "EndpointBecameReachable",
  version: 1,
  init: () => new Map(),
  step: (previous, event) => {
    if (event.event_type !== "TlsScanResult") return [previous, none]
    const id = event.aggregate_id
    const status = event.payload.tls_status ?? null
    const before = previous.get(id)
    previous.set(id, status)
    if (status !== OK || !isFailure(before)) return [previous, none]
    return [
      previous,
      [derive("EndpointBecameReachable", event, "EndpointBecameReachable", id, { ...endpointFields(event) })],
    ]
  },
}

/** Previous tls_status `ok`, now a failure; the payload names the failure. */
export const endpointBecameUnreachable: Rule<EndpointStatusState> = {
  name: "EndpointBecameUnreachable",
  version: 1,
  init: () => new Map(),
  step: (previous, event) => {
    if (event.event_type !== "TlsScanResult") return [previous, none]
    const id = event.aggregate_id
    const status = event.payload.tls_status ?? null
    const before = previous.get(id)
    previous.set(id, status)
    if (before !== OK || !isFailure(status)) return [previous, none]
    return [
      previous,
      [
        derive("EndpointBecameUnreachable", event, "EndpointBecameUnreachable", id, {
          ...endpointFields(event),
          tls_status: status,
        }),
      ],
    ]
  },
}
