import type { FastifyPluginAsync } from 'fastify'
import oauthApiRoutes from './api-routes.js'
import oauthBrowserRoutes from './browser-routes.js'
import consentRoutes from './consent-routes.js'

/**
 * OAuth2 for third-party clients (DESIGN.md §1, the sixth pattern). Each part is its
 * own encapsulated plugin: the form parser and the RFC error shape stay inside.
 */
const oauthRoutes: FastifyPluginAsync = async (app) => {
  await app.register(oauthApiRoutes)
  await app.register(oauthBrowserRoutes)
  await app.register(consentRoutes)
}

export default oauthRoutes
