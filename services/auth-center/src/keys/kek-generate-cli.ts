import { generateKek } from './kek.js'

/**
 * `pnpm --filter @authcenter/auth-center kek:generate`: prints a new AUTH_KEK (32 random
 * bytes, base64url). Store it in the secret manager that feeds the auth center's
 * environment, never beside the data it seals.
 */
process.stdout.write(generateKek() + '\n')
