/**
 * Many followers of the auth center's revocation stream in one process, for the
 * revocation benchmark's "cost of 1,000 connected verifiers": argv `<streamUrl> <token> <count>`.
 * Opens `count` Server-Sent Events streams (what a verifier holds open), reads and drops
 * what they send, and sends `{ open }` once every stream has had its `hello`.
 */
const [, , streamUrl, token, countArg] = process.argv as string[]
const count = Number(countArg)
let open = 0
let heartbeats = 0
const hello = new TextEncoder().encode('event: hello')
process.on('disconnect', () => process.exit(0))

async function follow (): Promise<void> {
  const res = await fetch(streamUrl!, { headers: { authorization: `Bearer ${token!}`, accept: 'text/event-stream' } })
  if (!res.ok || res.body === null) throw new Error(`stream: HTTP ${res.status}`)
  let seen = false
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    if (!seen && Buffer.from(chunk).includes(Buffer.from(hello))) {
      seen = true
      if (++open === count) process.send!({ open })
    } else if (seen) heartbeats++
  }
}

// Opened in batches so that the accept queue is never the limit being measured.
for (let i = 0; i < count; i += 100) {
  await Promise.all(Array.from({ length: Math.min(100, count - i) }, async () => {
    const p = follow()
    p.catch((err: unknown) => { process.stderr.write(`feed client: ${String(err)}\n`) })
    await new Promise((resolve) => setTimeout(resolve, 1))
  }))
}
process.on('message', () => { process.send!({ open, heartbeats }) })
