/**
 * Lazy loading of the optional cloud SDKs (peer dependencies). Importing `src/kms` loads none of them;
 * a provider calls {@link loadSdk} the first time it needs its SDK.
 *
 * @module
 */
import { kmsError } from './errors.js';

const cache = new Map<string, Promise<unknown>>();

function isModuleNotFound(e: unknown, pkg: string): boolean {
  const err = e as { code?: unknown; message?: unknown } | null;
  if (err === null || typeof err !== 'object') return false;
  const code = err.code;
  const message = typeof err.message === 'string' ? err.message : '';
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (module|package)/.test(message)) && message.includes(pkg);
}

/**
 * Import an optional SDK package once.
 * @param pkg the npm package name, used in the error message.
 * @param importer `() => import('<pkg>')`, written literally by the caller so bundlers and TypeScript see it.
 * @throws CosignError `KMS_SDK_MISSING` naming the package to install when it is not installed.
 */
export async function loadSdk<T>(pkg: string, keyRef: string, importer: () => Promise<T>): Promise<T> {
  let p = cache.get(pkg) as Promise<T> | undefined;
  if (p === undefined) {
    p = importer();
    cache.set(pkg, p);
    p.catch(() => cache.delete(pkg));
  }
  try {
    return await p;
  } catch (e) {
    if (isModuleNotFound(e, pkg)) {
      throw kmsError('KMS_SDK_MISSING', keyRef, `the optional package ${pkg} is not installed; install it with \`npm install ${pkg}\``, { package: pkg });
    }
    throw kmsError('KMS_SDK_MISSING', keyRef, `the optional package ${pkg} could not be loaded (${(e as Error)?.message ?? String(e)})`, { package: pkg });
  }
}
