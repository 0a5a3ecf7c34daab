import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, request, type IncomingMessage, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'
import { freePort } from '@authcenter/testkit'
import { untilReadyz } from '../helpers/server-process.js'

const SERVICE_DIR = fileURLToPath(new URL('../..', import.meta.url))

export interface ReplicaProcess {
  name: string
  port: number
  url: string
  dataDir: string
  /** What the process wrote on stderr (for the message of a failed start). */
  stderr (): string
  close (): Promise<void>
}

/**
 * The real auth center as its own process (`node --import tsx src/server.ts`, what
 * `pnpm start` runs after the build), on a free port and a data directory of its own,
 * resolved once GET /readyz answers 200.
 */
export async function startReplica (t: Test, name: string, env: Record<string, string>): Promise<ReplicaProcess> {
  const port = await freePort()
  const dataDir = await mkdtemp(join(tmpdir(), `authcenter-replica-${name}-`))
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: SERVICE_DIR,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), AUTH_DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe']
  })
  let stderr = ''
  child.stderr?.on('data', (b: Buffer) => { stderr += b.toString() })
  const exited = once(child, 'exit')
  const url = `http://127.0.0.1:${port}`
  const replica: ReplicaProcess = {
    name,
    port,
    url,
    dataDir,
    stderr: () => stderr,
    async close () {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
        await exited
        clearTimeout(timer)
      }
      await rm(dataDir, { recursive: true, force: true, maxRetries: 3 })
    }
  }
  t.teardown(() => replica.close())
  await untilReadyz(url, 200, 60_000, {
    giveUp: () => child.exitCode === null ? undefined : `replica ${name} exited with ${child.exitCode}`,
    detail: () => stderr
  })
  return replica
}

/**
 * The one issuer URL of all replicas, as a load balancer would be, that sends each
 * request to the replica its caller is pinned to: the client id of a Basic credential,
 * or the `client_id` claim of a Bearer access token (read, not verified: this only
 * routes), looked up in `pins`; anything else goes to `fallback`. So each verifier's
 * feed (token, snapshot, stream) is served by the replica the test chose for it.
 */
export interface PinningBalancer {
  url: string
  /** Where requests without a pinned caller go (metadata, JWKS); may be set after the start. */
  fallback: number
  /** Requests served, by replica port and path. */
  served: Array<{ port: number, path: string }>
  close (): Promise<void>
}

export async function startPinningBalancer (t: Test, pins: Record<string, number>, fallback: number): Promise<PinningBalancer> {
  const port = await freePort()
  const served: PinningBalancer['served'] = []
  const server: Server = createServer((req, res) => {
    const target = pins[callerOf(req) ?? ''] ?? balancer.fallback
    served.push({ port: target, path: (req.url ?? '').split('?')[0]! })
    const upstream = request({ host: '127.0.0.1', port: target, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers)
      up.pipe(res)
    })
    upstream.on('error', () => { if (!res.headersSent) res.writeHead(502); res.end() })
    res.on('close', () => { upstream.destroy() })
    req.pipe(upstream)
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const balancer: PinningBalancer = {
    url: `http://127.0.0.1:${port}`,
    fallback,
    served,
    async close () {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  }
  t.teardown(() => balancer.close())
  return balancer
}

function callerOf (req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization ?? ''
  const [scheme, value = ''] = auth.split(' ')
  try {
    if (scheme === 'Basic') return decodeURIComponent(Buffer.from(value, 'base64').toString().split(':')[0]!)
    if (scheme === 'Bearer' || scheme === 'DPoP') {
      return (JSON.parse(Buffer.from(value.split('.')[1] ?? '', 'base64url').toString()) as { client_id?: string }).client_id
    }
  } catch {}
  return undefined
}
