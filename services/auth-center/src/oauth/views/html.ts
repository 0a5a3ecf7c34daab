/**
 * Server-rendered pages without a framework: every interpolated value goes through
 * `esc` (text and attribute contexts alike), templates are plain functions.
 */
export function esc (value: unknown): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
}

/** Marks trusted markup (built from escaped parts) so `page` does not escape it again. */
export class Html {
  constructor (readonly value: string) {}
  toString (): string { return this.value }
}

export function html (strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!
  values.forEach((v, i) => {
    const part = Array.isArray(v) ? v.map((x) => x instanceof Html ? x.value : esc(x)).join('') : v instanceof Html ? v.value : v === undefined || v === null || v === false ? '' : esc(v)
    out += part + strings[i + 1]!
  })
  return new Html(out)
}

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f5f7;color:#1d2330}
main{max-width:26rem;margin:0 auto;padding:1.5rem 1rem}
.card{background:#fff;border-radius:12px;padding:1.25rem;box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:1.3rem;margin:0 0 .75rem}label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input{width:100%;font-size:1rem;padding:.7rem;border:1px solid #b8bfcc;border-radius:8px}
button{width:100%;font-size:1rem;padding:.75rem;margin-top:.75rem;border:0;border-radius:8px;background:#2454d6;color:#fff;font-weight:600}
button.secondary{background:#e6e9ef;color:#1d2330}.row{display:flex;gap:.5rem}.row button{flex:1}
.error{background:#fdecec;color:#8a1c1c;padding:.6rem .8rem;border-radius:8px}.notice{background:#e9f3ea;color:#1e5b25;padding:.6rem .8rem;border-radius:8px}
ul{padding-left:1.2rem}small{color:#5b6475}details{margin-top:1rem}summary{cursor:pointer;color:#2454d6}
`

/** The page shell: phone-sized, no script, no external resource. */
export function page (title: string, body: Html): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${esc(title)}</title><style>${STYLE}</style></head>
<body><main><div class="card">${body.value}</div></main></body></html>`
}
