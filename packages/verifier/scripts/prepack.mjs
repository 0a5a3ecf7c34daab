// Runs before the tarball is made (`pnpm pack`, `pnpm publish`): builds dist/ so that
// packing a fresh clone cannot give an empty package.
//
// Only pnpm rewrites the `catalog:` and `workspace:` versions of package.json into real
// ranges (and applies publishConfig.exports); a tarball made by `npm pack` would fail to
// install (EUNSUPPORTEDPROTOCOL), so npm is stopped here with the command to use instead.
import { execFileSync } from 'node:child_process'

const agent = process.env.npm_config_user_agent ?? ''
if (!agent.startsWith('pnpm/')) {
  console.error('@authcenter/verifier: pack it with `pnpm pack` (npm pack would keep the workspace\'s catalog: and workspace: versions, which npm cannot install)')
  process.exit(1)
}
execFileSync('tsc', ['-p', 'tsconfig.build.json'], { stdio: 'inherit', shell: process.platform === 'win32' })
