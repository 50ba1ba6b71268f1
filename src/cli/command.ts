/**
 * The shape of a verb: its flags, help texts and `run`. A verb module must stay cheap to import (for
 * `--help` and startup time): it imports library code with dynamic `import()` inside `run`.
 *
 * @module
 */
import type { CliContext } from './context.js';
import type { FlagSpec, Flags } from './flags.js';

/** One verb of the CLI. */
export interface Command {
  /** The verb (`sign`). */
  readonly name: string;
  /** One line for the verb list. */
  readonly short: string;
  /** Longer description (defaults to `short`). */
  readonly long?: string;
  /** Usage line after `cosign-ts <verb>`, e.g. `[flags] <image>`. */
  readonly usage: string;
  /** Examples, already indented by two spaces. */
  readonly examples: string;
  /** Extra help sections (environment, exit status), printed after the flags. */
  readonly notes?: string;
  readonly flags: readonly FlagSpec[];
  /** Positional argument count, checked before `run` (cobra's `Args`). */
  readonly args: { readonly min: number; readonly max: number };
  /** Run the verb; resolves to the exit status. */
  run(ctx: CliContext, flags: Flags): Promise<number>;
}

/** `--output`: `text` (human) or `json` (machine JSON on stdout and nothing else). */
export const OUTPUT_FLAG: FlagSpec = {
  name: 'output',
  type: 'string',
  default: 'text',
  values: ['text', 'json'],
  help: 'output format: text (for humans) or json (machine-readable JSON on stdout, nothing else on stdout)',
};

/** Flags every verb has (cobra's `-h, --help`). */
export const HELP_FLAG: FlagSpec = { name: 'help', short: 'h', type: 'boolean', default: false, help: 'help for this command' };

/** Registry connection flags (cosign's `RegistryOptions`). */
export const REGISTRY_FLAGS: readonly FlagSpec[] = [
  {
    name: 'allow-insecure-registry',
    type: 'boolean',
    default: false,
    help: "whether to allow insecure connections to registries (e.g., with expired or self-signed TLS certificates). Don't use this for anything but testing",
  },
  {
    name: 'allow-http-registry',
    type: 'boolean',
    default: false,
    help: "whether to allow using HTTP protocol while connecting to registries. Don't use this for anything but testing",
  },
  {
    name: 'attachment-tag-prefix',
    type: 'string',
    default: '',
    help: 'optional custom prefix to use for attached image tags. Attachment images are tagged as: [AttachmentTagPrefix]sha256-[TargetImageDigest].[AttachmentName]',
  },
  { name: 'registry-username', type: 'string', default: '', help: 'registry basic auth username' },
  { name: 'registry-password', type: 'string', default: '', help: 'registry basic auth password' },
  { name: 'registry-token', type: 'string', default: '', help: 'registry bearer auth token' },
  {
    name: 'registry-cacert',
    type: 'string',
    default: '',
    help: 'path to the X.509 CA certificate file in PEM format to be used for the connection to the registry',
  },
  {
    name: 'registry-client-cert',
    type: 'string',
    default: '',
    help: 'path to the X.509 certificate file in PEM format to be used for the connection to the registry',
  },
  {
    name: 'registry-client-key',
    type: 'string',
    default: '',
    help: "path to the X.509 private key file in PEM format to be used, together with the 'registry-client-cert' value, for the connection to the registry",
  },
  {
    name: 'registry-server-name',
    type: 'string',
    default: '',
    help: "SAN name to use as the 'ServerName' tls.Config field to verify the mTLS connection to the registry",
  },
  { name: 'k8s-keychain', type: 'boolean', default: false, help: 'use the Kubernetes keychain' },
];

/** `--type` of the attestation verbs: a cosign short name or a predicate-type URI (cosign's default `custom`). */
export const PREDICATE_TYPE_FLAG: FlagSpec = {
  name: 'type',
  type: 'string',
  default: 'custom',
  help: 'specify a predicate type (slsaprovenance|slsaprovenance02|slsaprovenance1|link|spdx|spdxjson|cyclonedx|vuln|openvex|custom) or an URI',
};

/** `--insecure-ignore-tlog` of the verify verbs (cosign's help text). */
export const INSECURE_IGNORE_TLOG_FLAG: FlagSpec = {
  name: 'insecure-ignore-tlog',
  type: 'boolean',
  default: false,
  help: 'ignore transparency log verification, to be used when an artifact signature has not been uploaded to the transparency log. Artifacts cannot be publicly verified when not included in a log',
};

/** The certificate (keyless) flags of cosign's `verify` and `verify-attestation`: when one is given, the verb checks a certificate. */
export const KEYLESS_FLAGS: readonly string[] = [
  'certificate-identity',
  'certificate-identity-regexp',
  'certificate-oidc-issuer',
  'certificate-oidc-issuer-regexp',
  'certificate',
  'certificate-chain',
  'ca-roots',
  'ca-intermediates',
  'certificate-github-workflow-name',
  'certificate-github-workflow-ref',
  'certificate-github-workflow-repository',
  'certificate-github-workflow-sha',
  'certificate-github-workflow-trigger',
  'sct',
];
