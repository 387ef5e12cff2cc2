// A loopback HTTP proxy that misbehaves on a given share of requests, deterministically by seed:
// it answers 503 (with Retry-After: 0), resets the connection before forwarding, stalls (holds the
// request unanswered), or forwards and then resets instead of answering — the nastiest case, where
// the upstream has done the work but the client never hears so.
import { Effect } from "effect"
import type { Scope } from "effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"

export type Fault = "503" | "reset" | "stall" | "reset-after-forward"

export interface FaultProxyOptions {
  /** `http://127.0.0.1:PORT` of the real server. */
  readonly target: string
  /** Share of requests that get a fault, 0..1. */
  readonly share: number
  readonly seed: number
  readonly faults?: ReadonlyArray<Fault>
  /** How long a stalled request is held before its socket is destroyed. Default 5 s. */
  readonly stallMillis?: number
}

export interface FaultProxy {
  readonly url: string
  /** Requests seen, and how many got each fault. */
  readonly stats: { requests: number; faults: Record<Fault, number> }
}

/** mulberry32: a small seeded generator, so a failing run can be replayed. */
const seeded = (seed: number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export const startFaultProxy = (options: FaultProxyOptions): Effect.Effect<FaultProxy, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<{ proxy: FaultProxy; server: Http.Server; agent: Http.Agent; timers: Set<NodeJS.Timeout> }>((resume) => {
      const target = new URL(options.target)
      const random = seeded(options.seed)
      const faults = options.faults ?? ["503", "reset", "stall", "reset-after-forward"]
      const stats: FaultProxy["stats"] = { requests: 0, faults: { "503": 0, reset: 0, stall: 0, "reset-after-forward": 0 } }
      const agent = new Http.Agent({ keepAlive: true, maxSockets: 32 })
      const timers = new Set<NodeJS.Timeout>()

      const forward = (req: Http.IncomingMessage, res: Http.ServerResponse, resetAfter: boolean) => {
        const upstream = Http.request(
          {
            host: target.hostname,
            port: target.port,
            method: req.method,
            path: req.url,
            headers: req.headers,
            agent,
          },
          (up) => {
            if (resetAfter) {
              // Let the upstream finish its work, then never tell the client.
              up.resume()
              up.on("end", () => req.socket.destroy())
              return
            }
            res.writeHead(up.statusCode ?? 502, up.headers)
            up.pipe(res)
          },
        )
        upstream.on("error", () => req.socket.destroy())
        req.pipe(upstream)
      }

      const server = Http.createServer((req, res) => {
        stats.requests++
        const fault = random() < options.share ? faults[Math.floor(random() * faults.length)] : undefined
        if (fault !== undefined) stats.faults[fault]++
        switch (fault) {
          case "503":
            req.resume()
            req.on("end", () => {
              res.writeHead(503, { "content-type": "text/plain", "retry-after": "0" })
              res.end("injected fault")
            })
            return
          case "reset":
            req.socket.destroy()
            return
          case "stall": {
            req.resume()
            const timer = setTimeout(() => {
              timers.delete(timer)
              req.socket.destroy()
            }, options.stallMillis ?? 5_000)
            timers.add(timer)
            return
          }
          case "reset-after-forward":
            forward(req, res, true)
            return
          default:
            forward(req, res, false)
        }
      })
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo
        resume(Effect.succeed({ proxy: { url: `http://127.0.0.1:${port}`, stats }, server, agent, timers }))
      })
    }),
    ({ server, agent, timers }) =>
      Effect.async<void>((resume) => {
        for (const t of timers) clearTimeout(t)
        agent.destroy()
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      }),
  ).pipe(Effect.map(({ proxy }) => proxy))
