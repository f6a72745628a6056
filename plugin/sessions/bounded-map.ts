/** A Map that keeps at most `limit` entries, letting the oldest go first: memory for caches that must not grow. */
export class BoundedMap<K, V> {
  private readonly entries = new Map<K, V>()

  constructor (private readonly limit: number) {}

  get (key: K): V | undefined {
    return this.entries.get(key)
  }

  set (key: K, value: V): void {
    this.entries.delete(key)
    this.entries.set(key, value)
    if (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value as K)
  }

  delete (key: K): void {
    this.entries.delete(key)
  }
}
