export { createClient, type AuthClient, type ClientOptions, type LogoutEvent, type SessionInfo } from './client.js'
export { AuthError, clientErrorCodes, sessionEndingCodes, type AuthErrorCode } from './errors.js'
export { memoryStorage, type TokenStorage } from './storage.js'
export { indexedDBStorage } from './indexeddb-storage.js'
