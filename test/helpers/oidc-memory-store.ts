import type { Adapter, AdapterPayload } from 'oidc-provider'

/**
 * oidc-provider's storage, kept outside the provider so that a rebuilt provider (key rotation) finds the clients,
 * grants and sessions of the previous one. In memory; entries expire as oidc-provider asks.
 */
export function createStore (): (model: string) => Adapter {
  const entries = new Map<string, { payload: AdapterPayload, expiresAt: number }>()
  const byGrant = new Map<string, Set<string>>()
  const read = (key: string): AdapterPayload | undefined => {
    const entry = entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= Date.now()) {
      entries.delete(key)
      return undefined
    }
    return entry.payload
  }
  const find = (predicate: (payload: AdapterPayload) => boolean, model: string): AdapterPayload | undefined => {
    for (const [key] of entries) {
      if (!key.startsWith(`${model}:`)) continue
      const payload = read(key)
      if (payload !== undefined && predicate(payload)) return payload
    }
    return undefined
  }
  return (model) => ({
    async upsert (id, payload, expiresIn) {
      const key = `${model}:${id}`
      // Like most identity providers, the scope a client registered with does not cap what it may ask for later
      // (MCP clients register with the scope of their first challenge, then step up).
      if (model === 'Client') delete payload.scope
      entries.set(key, { payload, expiresAt: expiresIn === undefined ? Infinity : Date.now() + expiresIn * 1000 })
      if (payload.grantId !== undefined) byGrant.set(payload.grantId, (byGrant.get(payload.grantId) ?? new Set()).add(key))
    },
    async find (id) { return read(`${model}:${id}`) },
    async findByUid (uid) { return find((payload) => payload.uid === uid, model) },
    async findByUserCode (userCode) { return find((payload) => payload.userCode === userCode, model) },
    async consume (id) {
      const payload = read(`${model}:${id}`)
      if (payload !== undefined) payload.consumed = Math.floor(Date.now() / 1000)
    },
    async destroy (id) { entries.delete(`${model}:${id}`) },
    async revokeByGrantId (grantId) {
      for (const key of byGrant.get(grantId) ?? []) entries.delete(key)
      byGrant.delete(grantId)
    }
  })
}
