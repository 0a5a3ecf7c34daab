import { connect } from 'node:net'
import { request } from 'node:http'
import { once } from 'node:events'
import t, { type Test } from 'tap'
import type { AvatarStorage } from '../../src/avatars/storage.js'
import { createDirectoryStorage } from '../../src/avatars/directory-storage.js'
import { bearer, form, images, pngOfSize, startService, type TestService } from '../helper.js'

const AVATAR_URL = /^\/avatars\/[A-Za-z0-9_-]{22}\.(png|jpg|webp|gif)$/

async function upload (svc: TestService, token: string, body: FormData): Promise<Response> {
  return fetch(`${svc.url}/user/avatar`, { method: 'POST', headers: bearer(token), body })
}

/**
 * An upload that reads the answer even when the server answers before the body is sent and
 * closes: Node 24's fetch reports that as EPIPE instead of the 413 (curl and browsers show it).
 */
async function uploadEarlyAnswer (svc: TestService, token: string, fd: FormData): Promise<Response> {
  const encoded = new Response(fd)
  const body = Buffer.from(await encoded.arrayBuffer())
  return await new Promise((resolve, reject) => {
    let answered = false
    const req = request(`${svc.url}/user/avatar`, {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': encoded.headers.get('content-type')!, 'content-length': String(body.length) }
    }, (res) => {
      answered = true
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => { resolve(new Response(Buffer.concat(chunks), { status: res.statusCode })) })
      res.on('error', reject)
    })
    // The server may close while the body is still being written; the answer decides.
    req.on('error', (err: NodeJS.ErrnoException) => { if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') reject(err) })
    req.on('close', () => { if (!answered) reject(new Error('the connection closed without an answer')) })
    req.end(body)
  })
}

t.test('upload then GET back, for each accepted type', async (t) => {
  const svc = await startService(t)
  const token = svc.issuer.mint('u1')
  const types: Array<[keyof typeof images, string]> = [['png', 'image/png'], ['jpg', 'image/jpeg'], ['gif', 'image/gif'], ['webp', 'image/webp']]
  for (const [ext, contentType] of types) {
    t.test(ext, async (t) => {
      // A misleading filename and declared type: only the bytes count.
      const res = await upload(svc, token, form(images[ext], 'photo.txt', 'text/plain'))
      t.equal(res.status, 200)
      const { avatar_url: url } = await res.json() as { avatar_url: string }
      t.match(url, AVATAR_URL)
      t.ok(url.endsWith(`.${ext}`), 'the stored name takes the detected type\'s extension')
      t.notMatch(url, /photo/, 'the client\'s filename is never used')

      const got = await fetch(`${svc.url}${url}`)
      t.equal(got.status, 200)
      t.equal(got.headers.get('content-type'), contentType)
      t.equal(got.headers.get('x-content-type-options'), 'nosniff')
      t.match(got.headers.get('cache-control'), /max-age=31536000.*immutable/)
      t.equal(got.headers.get('content-length'), String(images[ext].length))
      t.ok(Buffer.from(await got.arrayBuffer()).equals(images[ext]), 'byte for byte identical')

      const mine = await fetch(`${svc.url}/user/mine`, { headers: bearer(token) })
      t.equal((await mine.json()).avatar_url, url)
    })
  }
  t.test('only the latest avatar is kept on disk', async (t) => {
    const files = await svc.listAvatars()
    t.equal(files.length, 1)
    const mine = await (await fetch(`${svc.url}/user/mine`, { headers: bearer(token) })).json() as { avatar_url: string }
    t.equal(`/avatars/${files[0]}`, mine.avatar_url)
  })
})

t.test('a new avatar replaces the old one, which is removed after the profile moved on', async (t) => {
  const svc = await startService(t)
  const token = svc.issuer.mint('u2')
  const first = await (await upload(svc, token, form(images.png))).json() as { avatar_url: string }
  const second = await (await upload(svc, token, form(images.gif, 'b.gif', 'image/gif'))).json() as { avatar_url: string }
  t.not(first.avatar_url, second.avatar_url)
  t.equal((await fetch(`${svc.url}${first.avatar_url}`)).status, 404)
  t.equal((await fetch(`${svc.url}${second.avatar_url}`)).status, 200)
  t.same(await svc.listAvatars(), [second.avatar_url.slice('/avatars/'.length)])
})

t.test('one user\'s upload does not touch another user\'s avatar', async (t) => {
  const svc = await startService(t)
  const a = await (await upload(svc, svc.issuer.mint('a'), form(images.png))).json() as { avatar_url: string }
  const b = await (await upload(svc, svc.issuer.mint('b'), form(images.jpg))).json() as { avatar_url: string }
  t.equal((await fetch(`${svc.url}${a.avatar_url}`)).status, 200)
  t.equal((await fetch(`${svc.url}${b.avatar_url}`)).status, 200)
  t.equal((await svc.listAvatars()).length, 2)
})

t.test('refused uploads get a clear 4xx and leave nothing behind', async (t) => {
  const svc = await startService(t, { AVATAR_MAX_BYTES: '1KiB' })
  const token = svc.issuer.mint('u3')
  // The user has an avatar already: a refused upload must not disturb it.
  const kept = await (await upload(svc, token, form(images.png))).json() as { avatar_url: string }
  const before = await svc.listAvatars()

  const expectRefused = async (t: Test, res: Response, status: number, code: string): Promise<void> => {
    t.equal(res.status, status)
    t.match(await res.json(), { statusCode: status, code, error: String, message: String })
    t.same(await svc.listAvatars(), before, 'AVATAR_DIR unchanged')
    const mine = await (await fetch(`${svc.url}/user/mine`, { headers: bearer(token) })).json() as { avatar_url: string }
    t.equal(mine.avatar_url, kept.avatar_url, 'profile unchanged')
  }

  t.test('text in a .png file -> 415 AVATAR_TYPE', async (t) => {
    await expectRefused(t, await upload(svc, token, form(Buffer.from('this is not an image at all, only text'), 'a.png', 'image/png')), 415, 'AVATAR_TYPE')
  })
  t.test('SVG (script-capable) -> 415 AVATAR_TYPE', async (t) => {
    await expectRefused(t, await upload(svc, token, form(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'), 'a.svg', 'image/svg+xml')), 415, 'AVATAR_TYPE')
  })
  t.test('fewer bytes than a signature -> 415 AVATAR_TYPE', async (t) => {
    await expectRefused(t, await upload(svc, token, form(Buffer.from([0x89, 0x50]))), 415, 'AVATAR_TYPE')
  })
  t.test('an empty file -> 400 AVATAR_MISSING', async (t) => {
    await expectRefused(t, await upload(svc, token, form(Buffer.alloc(0))), 400, 'AVATAR_MISSING')
  })
  t.test('a file just over the limit -> 413 AVATAR_TOO_LARGE (cut by the parser)', async (t) => {
    await expectRefused(t, await upload(svc, token, form(pngOfSize(1025))), 413, 'AVATAR_TOO_LARGE')
  })
  t.test('a file far over the limit -> 413 AVATAR_TOO_LARGE (refused by Content-Length)', async (t) => {
    await expectRefused(t, await uploadEarlyAnswer(svc, token, form(pngOfSize(200 * 1024))), 413, 'AVATAR_TOO_LARGE')
  })
  t.test('no file at all -> 400 AVATAR_MISSING', async (t) => {
    const fd = new FormData()
    fd.append('note', 'hello')
    await expectRefused(t, await upload(svc, token, fd), 400, 'AVATAR_MISSING')
  })
  t.test('the file in another field -> 400 AVATAR_MISSING', async (t) => {
    await expectRefused(t, await upload(svc, token, form(images.png, 'a.png', 'image/png', 'image')), 400, 'AVATAR_MISSING')
  })
  t.test('two files -> 400 AVATAR_TOO_MANY_FILES', async (t) => {
    const fd = form(images.png)
    fd.append('file', new Blob([new Uint8Array(images.gif)]), 'b.gif')
    await expectRefused(t, await upload(svc, token, fd), 400, 'AVATAR_TOO_MANY_FILES')
  })
  t.test('not multipart -> 415 AVATAR_NOT_MULTIPART', async (t) => {
    const res = await fetch(`${svc.url}/user/avatar`, {
      method: 'POST', headers: { ...bearer(token), 'content-type': 'application/json' }, body: '{"file":"x"}'
    })
    await expectRefused(t, res, 415, 'AVATAR_NOT_MULTIPART')
  })
  t.test('a broken multipart body -> 400 AVATAR_MALFORMED', async (t) => {
    const res = await fetch(`${svc.url}/user/avatar`, {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'multipart/form-data; boundary=XYZ' },
      // A valid PNG start, then the body ends without a closing boundary.
      body: Buffer.concat([
        Buffer.from('--XYZ\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n'),
        pngOfSize(100)
      ])
    })
    await expectRefused(t, res, 400, 'AVATAR_MALFORMED')
  })
  t.test('a file of exactly the limit is accepted', async (t) => {
    const res = await upload(svc, token, form(pngOfSize(1024)))
    t.equal(res.status, 200)
  })
})

/** Sends the start of a multipart upload over a raw socket, then cuts it off. */
async function truncatedUpload (svc: TestService, token: string, cut: 'destroy' | 'end'): Promise<string> {
  const boundary = 'cutoff-boundary'
  const file = pngOfSize(64 * 1024)
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`
  const tail = `\r\n--${boundary}--\r\n`
  const length = Buffer.byteLength(head) + file.length + Buffer.byteLength(tail)
  const { port } = new URL(svc.url)
  const socket = connect(Number(port), '127.0.0.1')
  await once(socket, 'connect')
  let answer = ''
  socket.on('data', (b: Buffer) => { answer += b.toString('latin1') })
  socket.on('error', () => {})
  socket.write([
    'POST /user/avatar HTTP/1.1',
    'Host: 127.0.0.1',
    `Authorization: Bearer ${token}`,
    `Content-Type: multipart/form-data; boundary=${boundary}`,
    `Content-Length: ${length}`,
    '', ''
  ].join('\r\n'))
  socket.write(head)
  socket.write(file.subarray(0, file.length / 2))
  await new Promise((resolve) => setTimeout(resolve, 150))
  if (cut === 'destroy') socket.destroy()
  else socket.end()
  if (!socket.destroyed) await once(socket, 'close')
  return answer
}

/** A storage that reports when its uploads have settled, so a test can wait for the server's side of an abort. */
function watched (inner: AvatarStorage): { storage: AvatarStorage, settled: () => Promise<void>, saves: () => number } {
  const pending = new Set<Promise<unknown>>()
  let count = 0
  return {
    storage: {
      save (source, ext) {
        count++
        const p = inner.save(source, ext)
        pending.add(p)
        p.then(() => pending.delete(p), () => pending.delete(p))
        return p
      },
      open: (name) => inner.open(name),
      remove: (name) => inner.remove(name)
    },
    saves: () => count,
    settled: async () => { await Promise.allSettled([...pending]) }
  }
}

t.test('an upload cut off mid-file leaves nothing behind', async (t) => {
  for (const cut of ['destroy', 'end'] as const) {
    t.test(`client ${cut === 'destroy' ? 'drops the connection' : 'half-closes'}`, async (t) => {
      const { mkdtemp } = await import('node:fs/promises')
      const { join } = await import('node:path')
      const { tmpdir } = await import('node:os')
      const dir = await mkdtemp(join(tmpdir(), 'user-service-cut-'))
      const { rm } = await import('node:fs/promises')
      t.teardown(() => rm(dir, { recursive: true, force: true }))
      const w = watched(await createDirectoryStorage(dir))
      const svc = await startService(t, { AVATAR_DIR: dir }, { avatars: w.storage })
      const token = svc.issuer.mint('u4')
      const before = await svc.listAvatars()
      const answer = await truncatedUpload(svc, token, cut)
      // Either no answer (connection ended) or a 4xx, never a success.
      if (answer !== '') t.match(answer, /^HTTP\/1\.1 4\d\d /)
      // Wait until the server gave up on the stored stream.
      const deadline = Date.now() + 5000
      while (w.saves() === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
      t.equal(w.saves(), 1, 'the upload reached the storage')
      await w.settled()
      t.same(await svc.listAvatars(), before, 'AVATAR_DIR unchanged')
      const mine = await (await fetch(`${svc.url}/user/mine`, { headers: bearer(token) })).json() as { avatar_url: unknown }
      t.equal(mine.avatar_url, null)
    })
  }
})

t.test('GET /avatars/:name', async (t) => {
  const svc = await startService(t)
  const notFound = [
    'AAAAAAAAAAAAAAAAAAAAAA.png', // well-formed, absent
    'x.png',
    '..%2F..%2Fetc%2Fpasswd',
    '..%2Fpackage.json',
    '%2Fetc%2Fpasswd',
    'AAAAAAAAAAAAAAAAAAAAAA.svg',
    'AAAAAAAAAAAAAAAAAAAAAA.png%00.txt',
    '.upload-0000000000000000.tmp'
  ]
  for (const name of notFound) {
    t.test(`${name} -> 404 AVATAR_NOT_FOUND`, async (t) => {
      const res = await fetch(`${svc.url}/avatars/${name}`)
      t.equal(res.status, 404)
      t.match(await res.json(), { statusCode: 404, code: 'AVATAR_NOT_FOUND' })
    })
  }
  t.test('needs no token, and HEAD works', async (t) => {
    const { avatar_url: url } = await (await upload(svc, svc.issuer.mint('u5'), form(images.webp))).json() as { avatar_url: string }
    const head = await fetch(`${svc.url}${url}`, { method: 'HEAD' })
    t.equal(head.status, 200)
    t.equal(head.headers.get('content-type'), 'image/webp')
  })
})
