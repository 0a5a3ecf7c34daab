import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { build as buildAuthCenter, loadConfig as loadAuthConfig } from '@authcenter/auth-center'
import { freePort } from '@authcenter/testkit'
import { build, type BuildOptions } from '../src/app.js'
import { loadConfig } from '../src/config.js'

export interface Pair {
  /** The auth center's URL, also its issuer (so the user service discovers the JWKS for real). */
  issuer: string
  auth: FastifyInstance
  usersUrl: string
  /** A temporary directory the test may use (clients files); removed with the test. */
  dir: string
  avatarDir: string
}

interface Teardown { teardown: (fn: () => unknown) => void }

/**
 * The real auth center and the real user service, both listening on 127.0.0.1, the
 * user service pointed at the auth center's issuer. `usersOptions` may be a function
 * of the running auth center (e.g. its in-process revocation feed).
 */
export async function startPair (t: Teardown, opts: {
  authEnv?: Record<string, string>
  usersEnv?: Record<string, string>
  usersOptions?: (auth: FastifyInstance) => BuildOptions
} = {}): Promise<Pair> {
  const dir = await mkdtemp(join(tmpdir(), 'ac-us-'))
  const avatarDir = join(dir, 'avatars')
  const port = await freePort()
  const issuer = `http://127.0.0.1:${port}`
  const auth = await buildAuthCenter(loadAuthConfig({
    AUTH_ISSUER: issuer, AUTH_DATA_DIR: join(dir, 'keys'), SMS_TEST_OTP: '+8613800000000:123456', LOG_LEVEL: 'silent', ...opts.authEnv
  }))
  await auth.listen({ host: '127.0.0.1', port })
  const users = await build(loadConfig({ AUTH_ISSUER: issuer, AVATAR_DIR: avatarDir, LOG_LEVEL: 'silent', ...opts.usersEnv }), opts.usersOptions?.(auth) ?? {})
  const usersUrl = await users.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(async () => {
    await users.close()
    await auth.close()
    await rm(dir, { recursive: true, force: true })
  })
  return { issuer, auth, usersUrl, dir, avatarDir }
}
