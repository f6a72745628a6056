import { createMemorySessionStateStore } from '../../plugin/sessions/memory-session-state-store.js'
import { sessionStateContract } from './session-state-contract.js'

// One process: the "peer" is the same store.
sessionStateContract('memory session state store', async (t, limits) => {
  const store = createMemorySessionStateStore({
    maxSessions: limits.maxSessions ?? 10,
    idleTimeoutMs: limits.idleTimeoutMs ?? 60_000,
    eventStore: { maxEvents: limits.maxEvents ?? 100, maxBytes: limits.maxBytes ?? 1024 * 1024 }
  })
  t.after(async () => { await store.close() })
  return { store, peer: store }
})
