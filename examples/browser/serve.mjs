// The demo page on one origin with the auth center and the user service behind it,
// the way a real deployment puts a reverse proxy in front (no CORS; the __Host-
// fingerprint cookie and the DPoP htu are this origin's). No dependencies.
//
//   pnpm build
//   AUTH_ISSUER=http://localhost:5173 PUBLIC_URL=http://localhost:5173 SMS_TEST_OTP=+8613800000000:123456 pnpm start
//   node examples/browser/serve.mjs            # then open http://localhost:5173
//
// AUTH_ISSUER is this origin because tokens and DPoP proofs name the URL the browser
// sees; PUBLIC_URL tells the user service the same for its DPoP checks.
// DEMO_PORT, AUTH_URL and USERS_URL change where this listens and what it forwards to.
import { createServer, request } from 'node:http'
import { readFile } from 'node:fs/promises'

const port = Number(process.env.DEMO_PORT ?? 5173)
const authUrl = process.env.AUTH_URL ?? 'http://127.0.0.1:4000'
const usersUrl = process.env.USERS_URL ?? 'http://127.0.0.1:4001'
const page = new URL('./index.html', import.meta.url)
const bundle = new URL('../../packages/client/dist/authcenter-client.min.js', import.meta.url)

function forward (req, res, target) {
  const up = request(target + req.url, { method: req.method, headers: req.headers }, (answer) => {
    res.writeHead(answer.statusCode, answer.headers)
    answer.pipe(res)
  })
  up.on('error', () => { res.writeHead(502).end() })
  req.pipe(up)
}

createServer(async (req, res) => {
  const path = req.url.split('?')[0]
  if (path === '/') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(await readFile(page))
  else if (path === '/sdk.js') res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(await readFile(bundle))
  else if (/^\/(auth|\.well-known|oauth|admin|revocations)(\/|$)/.test(path)) forward(req, res, authUrl)
  else if (/^\/(user|avatars)\//.test(path)) forward(req, res, usersUrl)
  else res.writeHead(404).end()
}).listen(port, '127.0.0.1', () => { console.log(`demo on http://localhost:${port} (auth center ${authUrl}, user service ${usersUrl})`) })
