// SharedCertificateDetected: an endpoint starts presenting a serial that another endpoint
// currently presents. "Currently": an endpoint that moved to another serial no longer holds the
// old one, and a failed scan (no serial) keeps the last one, as for CertificateChanged.
import { derive } from "../derive.js"
import type { Rule } from "../rule.js"
import { none, present } from "./support.js"

const NAME = "SharedCertificateDetected"

export interface SharedCertificateState {
  /** Endpoint id to the serial it currently presents. */
  readonly serials: Map<string, string>
  /** Serial to the endpoints currently presenting it. */
  readonly holders: Map<string, Set<string>>
}

export const sharedCertificateDetected: Rule<SharedCertificateState> = {
  name: NAME,
  version: 1,
  init: () => ({ serials: new Map(), holders: new Map() }),
  step: (state, event) => {
    if (event.event_type !== "TlsScanResult") return [state, none]
    const serial = event.payload.cert_serial
    if (!present(serial)) return [state, none]
    const endpoint = event.aggregate_id
    const before = state.serials.get(endpoint)
    if (before === serial) return [state, none]
    if (before !== undefined) {
      const old = state.holders.get(before)
      old?.delete(endpoint)
      if (old !== undefined && old.size === 0) state.holders.delete(before)
    }
    state.serials.set(endpoint, serial)
    let holders = state.holders.get(serial)
    if (holders === undefined) {
      holders = new Set()
      state.holders.set(serial, holders)
    }
    holders.add(endpoint)
    if (holders.size < 2) return [state, none]
    return [
      state,
      [
        derive(NAME, event, "SharedCertificateDetected", serial, {
          cert_serial: serial,
          endpoint_count: holders.size,
          endpoints: [...holders].sort(),
        }),
      ],
    ]
  },
}
