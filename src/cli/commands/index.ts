/**
 * The verb table: names, one-line descriptions and lazy loaders. Only the verb being run is imported.
 *
 * @module
 */
import type { Command } from '../command.js';

/** A verb and how to load it. */
export interface VerbEntry {
  readonly name: string;
  readonly short: string;
  readonly load: () => Promise<Command>;
}

/** Every verb, in the order of the root help. */
export const VERBS: readonly VerbEntry[] = [
  { name: 'attest', short: 'Attest the supplied container image.', load: async () => (await import('./attest.js')).command },
  { name: 'clean', short: 'Remove all signatures from an image.', load: async () => (await import('./clean.js')).command },
  { name: 'completion', short: 'Generate completion script', load: async () => (await import('./completion.js')).command },
  { name: 'copy', short: 'Copy the supplied container image and signatures.', load: async () => (await import('./copy.js')).command },
  { name: 'demo', short: 'Run the embedded end-to-end demo', load: async () => (await import('./demo.js')).command },
  { name: 'generate-key-pair', short: 'Generates a key-pair.', load: async () => (await import('./generate-key-pair.js')).command },
  {
    name: 'import-key-pair',
    short: 'Imports a PEM-encoded RSA, EC or Ed25519 private key.',
    load: async () => (await import('./import-key-pair.js')).command,
  },
  { name: 'load', short: 'Load a signed image on disk to a remote registry', load: async () => (await import('./load.js')).command },
  { name: 'login', short: 'Log in to a registry', load: async () => (await import('./login.js')).command },
  { name: 'public-key', short: 'Gets a public key from the key-pair.', load: async () => (await import('./public-key.js')).command },
  {
    name: 'save',
    short: 'Save the container image and associated signatures to disk at the specified directory.',
    load: async () => (await import('./save.js')).command,
  },
  { name: 'sign', short: 'Sign the supplied container image.', load: async () => (await import('./sign.js')).command },
  {
    name: 'sign-blob',
    short: 'Sign the supplied blob, outputting the base64-encoded signature to stdout.',
    load: async () => (await import('./sign-blob.js')).command,
  },
  {
    name: 'tree',
    short: 'Display supply chain security related artifacts for an image such as signatures, SBOMs and attestations',
    load: async () => (await import('./tree.js')).command,
  },
  {
    name: 'triangulate',
    short: 'Outputs the located cosign image reference. This is the location where cosign stores the specified artifact type.',
    load: async () => (await import('./triangulate.js')).command,
  },
  { name: 'verify', short: 'Verify a signature on the supplied container image', load: async () => (await import('./verify.js')).command },
  {
    name: 'verify-attestation',
    short: 'Verify an attestation on the supplied container image',
    load: async () => (await import('./verify-attestation.js')).command,
  },
  { name: 'verify-blob', short: 'Verify a signature on the supplied blob', load: async () => (await import('./verify-blob.js')).command },
  { name: 'version', short: 'Prints the version', load: async () => (await import('./version.js')).command },
];

/** The entry for `name`, if any. */
export function findVerb(name: string): VerbEntry | undefined {
  return VERBS.find((v) => v.name === name);
}
