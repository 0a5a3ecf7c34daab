/** The parts of an OpenAPI document the page reads. */
export interface OpenApiDocument {
  info: { title: string, version: string }
  paths?: Record<string, Record<string, Operation> | undefined>
  components?: { securitySchemes?: Record<string, { description?: string }> }
}
interface Operation {
  summary?: string
  security?: Array<Record<string, string[]>>
  responses?: Record<string, unknown>
  'x-error-codes'?: string[]
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const

const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/**
 * The API reference as one server-rendered HTML page: no script, no stylesheet and
 * nothing fetched, so it works offline and under `default-src 'none'`. A full
 * explorer (Swagger UI, Redoc) can be pointed at /openapi.json instead.
 */
export function referencePage (doc: OpenApiDocument): string {
  const sections: string[] = []
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item?.[method]
      if (op === undefined) continue
      const security = (op.security ?? []).map((s) => Object.keys(s).join(' + ')).join(' or ')
      const codes = op['x-error-codes']
      const statuses = Object.keys(op.responses ?? {}).join(', ')
      sections.push(`<section><h2><code>${method.toUpperCase()} ${escape(path)}</code></h2>` +
        (op.summary !== undefined ? `<p>${escape(op.summary)}</p>` : '') +
        `<dl><dt>Credentials</dt><dd>${security === '' ? 'none' : escape(security)}</dd>` +
        `<dt>Answers</dt><dd>${escape(statuses)}</dd>` +
        `<dt>Error codes</dt><dd>${codes === undefined || codes.length === 0 ? 'none' : codes.map((c) => `<code>${escape(c)}</code>`).join(' ')}</dd></dl></section>`)
    }
  }
  const schemes = Object.entries(doc.components?.securitySchemes ?? {})
    .map(([name, s]) => `<li><code>${escape(name)}</code>: ${escape(s.description ?? '')}</li>`).join('')
  return '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">' +
    `<title>${escape(doc.info.title)} API</title></head><body><h1>${escape(doc.info.title)} ${escape(doc.info.version)}</h1>` +
    '<p>The machine-readable document: <a href="openapi.json">openapi.json</a> (OpenAPI 3.1).</p>' +
    `<h2>Credentials</h2><ul>${schemes}</ul>${sections.join('')}</body></html>`
}
