/**
 * A map for the usual case of one entry: an idle socket listens to one or two events and a
 * connection usually carries one namespace. A `Map` costs about 200 bytes even for one entry (its
 * hash table); this keeps the first entry in two fields and makes a `Map` only for more.
 *
 * @module
 */

/** A string-keyed map holding its first entry inline. Iterates in insertion order. */
export class SmallMap<V> {
  #key: string | undefined;
  #value: V | undefined;
  // Entries after the inline one. The inline entry is always the oldest: a new key goes inline
  // only when the map holds nothing else.
  #more: Map<string, V> | undefined;

  get size(): number {
    return (this.#key === undefined ? 0 : 1) + (this.#more?.size ?? 0);
  }

  get(key: string): V | undefined {
    return key === this.#key ? this.#value : this.#more?.get(key);
  }

  has(key: string): boolean {
    return key === this.#key || (this.#more?.has(key) ?? false);
  }

  set(key: string, value: V): this {
    if (key === this.#key) this.#value = value;
    else if (this.#key === undefined && !this.#more?.size) {
      this.#key = key;
      this.#value = value;
    } else (this.#more ??= new Map()).set(key, value);
    return this;
  }

  delete(key: string): boolean {
    if (key === this.#key) {
      this.#key = undefined;
      this.#value = undefined;
      return true;
    }
    const deleted = this.#more?.delete(key) ?? false;
    if (this.#more?.size === 0) this.#more = undefined;
    return deleted;
  }

  clear(): void {
    this.#key = undefined;
    this.#value = undefined;
    this.#more = undefined;
  }

  /** The values, in insertion order (a snapshot: the map may change while it is used). */
  values(): V[] {
    const out: V[] = this.#key === undefined ? [] : [this.#value as V];
    if (this.#more !== undefined) for (const v of this.#more.values()) out.push(v);
    return out;
  }
}
