/**
 * Private state on plain objects. A subclass of `OnObject` adds its private fields to the object
 * given to its constructor (the constructor returns it), so the object keeps `Object.prototype`, its
 * own keys and its frozenness, while code in this module can recognise it (`#field in o`) or keep a
 * cache on it. Both are much cheaper than a `WeakSet` / `WeakMap` entry or an own accessor built per
 * object, and, unlike a property, cannot be forged or seen from outside.
 *
 * Fields are always added before the object is frozen.
 *
 * @module
 */
import { hash } from 'node:crypto';
import type { Digest } from '../digest.js';

/** Base whose constructor returns its argument, so subclass fields land on that object. */
class OnObject {
  constructor(o: object) {
    return o;
  }
}

/** Brands layer descriptors that `parseSignatureManifest` validated and froze. */
class ValidatedDescriptor extends OnObject {
  #validated = true;

  static has(o: object): boolean {
    return #validated in o;
  }
}

/** Mark `o` (not yet frozen) as a validated descriptor. */
export function brandValidatedDescriptor(o: object): void {
  new ValidatedDescriptor(o);
}

/** True when `o` was marked by {@link brandValidatedDescriptor}. */
export function isValidatedDescriptor(o: object): boolean {
  return ValidatedDescriptor.has(o);
}

/**
 * The digest of a parsed manifest's `raw` bytes, computed on first read and kept on the manifest: the
 * registry client has already checked the bytes, so most callers never need it.
 */
class LazyManifestDigest extends OnObject {
  #digest: Digest | undefined;

  /** Own enumerable accessor `digest` (shared descriptor: no closure per manifest). */
  static readonly property: PropertyDescriptor = {
    get(this: { readonly raw: Uint8Array }): Digest {
      const self = this as unknown as LazyManifestDigest;
      if (!(#digest in self)) throw new TypeError('not a parsed signature manifest');
      // node:crypto directly rather than layer.ts's sha256Digest: layer.ts imports this module.
      self.#digest ??= `sha256:${hash('sha256', this.raw, 'hex')}`;
      return self.#digest;
    },
    enumerable: true,
    configurable: false,
  };
}

/**
 * Give `o` (not yet frozen, with `raw` set) an own enumerable `digest` accessor: sha256 of `o.raw`,
 * computed once on first read.
 */
export function defineLazyManifestDigest(o: { readonly raw: Uint8Array }): void {
  new LazyManifestDigest(o);
  Object.defineProperty(o, 'digest', LazyManifestDigest.property);
}
