/**
 * Lazy loading of the optional cloud SDKs (peer dependencies). Importing `src/kms` loads none of them;
 * a provider calls {@link loadSdk} the first time it needs its SDK.
 *
 * @module
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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
 * How to install an optional SDK where this copy of cosign-ts will find it: `npm install -g <pkg>`
 * when cosign-ts itself is a global install (npm's global prefix `lib/node_modules`, per
 * `npm_config_global`/`npm_config_prefix` or next to the running Node, where globally installed
 * packages are found by each other), else `npm install <pkg>` in the project.
 *
 * @internal
 */
export function sdkInstallCommand(pkg: string, where: { modulePath: string; env: Readonly<Record<string, string | undefined>>; execPath: string }): string {
  const p = where.modulePath.replaceAll('\\', '/');
  const prefixes = [where.env.npm_config_prefix, path.dirname(path.dirname(where.execPath))]
    .filter((x): x is string => typeof x === 'string' && x !== '')
    .map((x) => `${x.replaceAll('\\', '/').replace(/\/$/, '')}/lib/node_modules/`);
  const global = where.env.npm_config_global === 'true' || prefixes.some((x) => p.startsWith(x)) || /\/lib\/node_modules\/cosign-ts\//.test(p);
  return global ? `npm install -g ${pkg}` : `npm install ${pkg}`;
}

function installCommand(pkg: string): string {
  let modulePath = '';
  try {
    modulePath = fileURLToPath(import.meta.url);
  } catch {
    // not a file: URL (a bundler): the project-local command
  }
  return sdkInstallCommand(pkg, { modulePath, env: process.env, execPath: process.execPath });
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
      throw kmsError('KMS_SDK_MISSING', keyRef, `the optional package ${pkg} is not installed; install it with \`${installCommand(pkg)}\``, { package: pkg });
    }
    throw kmsError('KMS_SDK_MISSING', keyRef, `the optional package ${pkg} could not be loaded (${(e as Error)?.message ?? String(e)})`, { package: pkg });
  }
}
