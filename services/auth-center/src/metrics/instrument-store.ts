import { performance } from 'node:perf_hooks'
import type { Store } from '../store/store.js'
import type { AuthMetrics } from './metrics.js'

/**
 * The store with every asynchronous call timed (latency histogram and error counter by
 * method name). Synchronous methods (subscribeRevocations, close hooks) pass through.
 * The wrapper of each method is made once, on first use.
 */
export function instrumentStore (store: Store, metrics: AuthMetrics): Store {
  const wrapped = new Map<PropertyKey, unknown>()
  return new Proxy(store, {
    get (target, name, receiver) {
      const value: unknown = Reflect.get(target, name, receiver)
      if (typeof value !== 'function' || typeof name !== 'string') return value
      let fn = wrapped.get(name)
      if (fn === undefined) {
        const method = value as (...args: unknown[]) => unknown
        fn = function (this: unknown, ...args: unknown[]): unknown {
          const start = performance.now()
          let result: unknown
          try {
            result = method.apply(target, args)
          } catch (err) {
            metrics.storeCall(name, (performance.now() - start) / 1000, true)
            throw err
          }
          if (result instanceof Promise) {
            return result.then(
              (v: unknown) => { metrics.storeCall(name, (performance.now() - start) / 1000, false); return v },
              (err: unknown) => { metrics.storeCall(name, (performance.now() - start) / 1000, true); throw err }
            )
          }
          return result
        }
        wrapped.set(name, fn)
      }
      return fn
    }
  })
}
