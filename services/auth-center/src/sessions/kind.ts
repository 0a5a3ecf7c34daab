import type { ClientRegistry } from '../clients/registry.js'
import type { Session, SessionKind } from '../store/store.js'

/**
 * Client ids and user ids live in separate namespaces: a client acting for itself
 * (client credentials) is the subject `client:<client_id>`, in its tokens' `sub`, in its
 * sessions' `userId`, and so in the user-level revocation entries (`u:client:<id>`).
 * User ids are UUIDs and client ids match `[A-Za-z0-9._-]{1,64}`: neither contains
 * the other's form, so a client registered with a user's id is still not that user.
 */
export const CLIENT_SUBJECT_PREFIX = 'client:'

export function clientSubject (clientId: string): string {
  return CLIENT_SUBJECT_PREFIX + clientId
}

/**
 * What a session's tokens may do. Sessions saved before the kind was stored are read
 * as they were then, leaning to the narrower reading when unsure: a client-credentials
 * record (user = client), an OAuth grant (a scope), a first-party login only when its
 * client is still registered as first-party.
 */
export function sessionKind (session: Pick<Session, 'kind' | 'userId' | 'clientId' | 'scope'>, clients: ClientRegistry): SessionKind {
  switch (session.kind) {
    case 'first-party':
    case 'third-party':
    case 'client':
      return session.kind
    case undefined:
      if (session.userId === session.clientId || session.userId.startsWith(CLIENT_SUBJECT_PREFIX)) return 'client'
      if (session.scope !== undefined) return 'third-party'
      return clients.get(session.clientId)?.type === 'first-party' ? 'first-party' : 'third-party'
    default:
      return 'third-party'
  }
}
