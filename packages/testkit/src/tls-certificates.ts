import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface TestCertificates {
  /** PEM files: a CA, and a server certificate it signed for 127.0.0.1 and localhost, with its key. */
  readonly ca: string
  readonly cert: string
  readonly key: string
  /** Removes the files. */
  close (): Promise<void>
}

/**
 * A throwaway CA and a server certificate for 127.0.0.1 (`openssl`, P-256, valid a day),
 * for TLS tests against a real server. A client trusts it through `ca` (ioredis `tls.ca`,
 * redis-cli `--cacert`, or NODE_EXTRA_CA_CERTS for a child process).
 */
export async function makeTestCertificates (): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'authcenter-tls-'))
  const f = (name: string): string => join(dir, name)
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  try {
    await run('openssl', ['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '1', '-subj', '/CN=authcenter test CA'])
    await run('openssl', ['req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1'])
    await writeFile(f('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n')
    await run('openssl', ['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial',
      '-out', f('server.crt'), '-days', '1', '-extfile', f('san.ext')])
  } catch (err) {
    await rm(dir, { recursive: true, force: true })
    throw (err as NodeJS.ErrnoException).code === 'ENOENT' ? new Error('openssl not found: install it (apt-get install openssl)') : err
  }
  return { ca: f('ca.crt'), cert: f('server.crt'), key: f('server.key'), close: async () => { await rm(dir, { recursive: true, force: true }) } }
}
