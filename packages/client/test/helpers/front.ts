import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import { readFile } from 'node:fs/promises'
import { build } from 'esbuild'

const EXAMPLE = new URL('../../../../examples/browser/index.html', import.meta.url)
const ENTRY = new URL('../../src/index.ts', import.meta.url).pathname

/** One refresh seen at the front: the generation presented, the answer's status, whether the answer was cut off. */
export interface RefreshSeen { gen: number, status: number, aborted: boolean, at: number }

export interface Front {
  origin: string
  refreshes: RefreshSeen[]
  /** Every proxied request: path and status (what the servers answered). */
  log: { path: string, status: number }[]
  /** The access tokens the user service was called with, in order. */
  userCalls: { token: string, scheme: string, status: number }[]
  /** Forward the next /auth/refresh, let the auth center rotate, then cut the connection instead of answering. */
  abortNextRefresh: () => void
  /** Serve a script at a path of this origin (the README snippet test). */
  serve: (path: string, javascript: string) => void
  reset: () => void
  close: () => Promise<void>
}

/**
 * The demo page's origin: serves examples/browser/index.html and the SDK bundle
 * (built here from src/ with esbuild), and reverse-proxies /auth, /.well-known,
 * /oauth and /admin to the auth center and /user to the user service, keeping the
 * Host header (the DPoP `htu` is this origin). It observes, never changes, what
 * passes, except the one refresh answer a test asks it to cut.
 */
export async function startFront (port: number, targets: () => { authUrl: string, usersUrl: string }): Promise<Front> {
  const bundle = (await build({ entryPoints: [ENTRY], bundle: true, minify: true, format: 'esm', target: 'es2022', write: false, logLevel: 'warning' })).outputFiles[0]!.text
  const refreshes: RefreshSeen[] = []
  const userCalls: Front['userCalls'] = []
  const log: Front['log'] = []
  let abort = false
  const scripts = new Map<string, string>([['/sdk.js', bundle]])

  function proxy (req: IncomingMessage, res: ServerResponse, target: string, body: Buffer): void {
    const path = req.url!.split('?')[0]!
    const at = Date.now()
    const up = httpRequest(target + req.url, { method: req.method, headers: req.headers }, (upRes) => {
      const chunks: Buffer[] = []
      upRes.on('data', (c: Buffer) => chunks.push(c))
      upRes.on('end', () => {
        const answer = Buffer.concat(chunks)
        log.push({ path, status: upRes.statusCode! })
        if (path === '/auth/refresh') {
          const presented = (JSON.parse(body.toString() || '{}') as { refresh_token?: string }).refresh_token ?? ''
          const cut = abort
          abort = false
          refreshes.push({ gen: Number(presented.split('.')[1]), status: upRes.statusCode!, aborted: cut, at })
          if (cut) { res.socket?.destroy(); return }
        }
        if (path.startsWith('/user/')) {
          const [scheme = '', token = ''] = (req.headers.authorization ?? '').split(' ')
          userCalls.push({ token, scheme, status: upRes.statusCode! })
        }
        res.writeHead(upRes.statusCode!, upRes.headers)
        res.end(answer)
      })
    })
    up.on('error', () => { res.socket?.destroy() })
    up.end(body)
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const path = req.url!.split('?')[0]!
      const { authUrl, usersUrl } = targets()
      if (path === '/') {
        void readFile(EXAMPLE).then((html) => { res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }); res.end(html) })
      } else if (scripts.has(path)) {
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' })
        res.end(scripts.get(path))
      } else if (/^\/(auth|\.well-known|oauth|admin)\//.test(path)) proxy(req, res, authUrl, Buffer.concat(chunks))
      else if (/^\/(user|avatars)\//.test(path)) proxy(req, res, usersUrl, Buffer.concat(chunks))
      else { res.writeHead(404); res.end() }
    })
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  return {
    origin: `http://localhost:${port}`,
    refreshes,
    userCalls,
    log,
    abortNextRefresh: () => { abort = true },
    serve: (path, javascript) => { scripts.set(path, javascript) },
    reset: () => { refreshes.length = 0; userCalls.length = 0; log.length = 0 },
    close: async () => { server.closeAllConnections(); await new Promise<void>((resolve) => server.close(() => resolve())) }
  }
}
