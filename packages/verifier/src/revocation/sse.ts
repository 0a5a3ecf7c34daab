/** One Server-Sent Event (WHATWG HTML §9.2): `event` defaults to `message`. */
export interface SseEvent {
  event: string
  data: string
  id: string | undefined
}

/**
 * Parses a `text/event-stream` body into events, as they arrive. Comments (`:`) and
 * `retry:` are read and dropped; an event without data is dropped, as the spec says.
 */
export async function * readEvents (body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder()
  let text = ''
  let event = ''
  let data: string[] = []
  let id: string | undefined
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    text += decoder.decode(chunk, { stream: true })
    let nl: number
    while ((nl = text.search(/\r\n|\r|\n/)) !== -1) {
      const line = text.slice(0, nl)
      text = text.slice(nl + (text[nl] === '\r' && text[nl + 1] === '\n' ? 2 : 1))
      if (line === '') {
        if (data.length > 0) yield { event: event === '' ? 'message' : event, data: data.join('\n'), id }
        event = ''
        data = []
        continue
      }
      if (line.startsWith(':')) continue
      const colon = line.indexOf(':')
      const name = colon === -1 ? line : line.slice(0, colon)
      let value = colon === -1 ? '' : line.slice(colon + 1)
      if (value.startsWith(' ')) value = value.slice(1)
      if (name === 'event') event = value
      else if (name === 'data') data.push(value)
      else if (name === 'id' && !value.includes('\0')) id = value
    }
  }
}
