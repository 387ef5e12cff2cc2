// HostnameBecameUnreachable and HostnameRecovered: dns_status moving to and from `nxdomain`.
import { derive, sortedUnique } from "../derive.js"
import type { Rule } from "../rule.js"
import { none, present } from "./support.js"

const NXDOMAIN = "nxdomain"

/** What the unreachable rule remembers of a hostname's previous scan. */
export interface PreviousHostnameScan {
  status: string | null
  addresses: ReadonlyArray<string>
}
export type HostnameUnreachableState = Map<string, PreviousHostnameScan>

const EMPTY: ReadonlyArray<string> = []

/** Previous dns_status present and not nxdomain, now nxdomain. */
export const hostnameBecameUnreachable: Rule<HostnameUnreachableState> = {
  name: "HostnameBecameUnreachable",
  version: 1,
  init: () => new Map(),
  step: (previous, event) => {
    if (event.event_type !== "HostnameScanResult") return [previous, none]
    const id = event.aggregate_id
    const status = event.payload.dns_status ?? null
    const addresses = event.payload.addresses ?? EMPTY
    const before = previous.get(id)
    if (before === undefined) {
      previous.set(id, { status, addresses })
      return [previous, none]
    }
    const wasStatus = before.status
    const wasAddresses = before.addresses
    before.status = status
    before.addresses = addresses
    if (!present(wasStatus) || wasStatus === NXDOMAIN || status !== NXDOMAIN) return [previous, none]
    return [
      previous,
      [
        derive("HostnameBecameUnreachable", event, "HostnameBecameUnreachable", id, {
          hostname: event.payload.hostname,
          previous_addresses: sortedUnique(wasAddresses),
        }),
      ],
    ]
  },
}

/** Per hostname stream: the dns_status of its previous scan. */
export type HostnameRecoveredState = Map<string, string | null>

/** Previous dns_status nxdomain, now anything else, with at least one address. */
export const hostnameRecovered: Rule<HostnameRecoveredState> = {
  name: "HostnameRecovered",
  version: 1,
  init: () => new Map(),
  step: (previous, event) => {
    if (event.event_type !== "HostnameScanResult") return [previous, none]
    const id = event.aggregate_id
    const status = event.payload.dns_status ?? null
    const before = previous.get(id)
    previous.set(id, status)
    const addresses = event.payload.addresses ?? EMPTY
    if (before !== NXDOMAIN || status === NXDOMAIN || addresses.length === 0) return [previous, none]
    return [
      previous,
      [
        derive("HostnameRecovered", event, "HostnameRecovered", id, {
          hostname: event.payload.hostname,
          addresses: sortedUnique(addresses),
        }),
      ],
    ]
  },
}
