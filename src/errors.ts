/**
 * One error class for the whole library, with a stable machine-readable {@link CosignErrorCode}.
 *
 * Every parser and every network edge throws a {@link CosignError}; callers switch on `code`,
 * never on message text. Messages say what was wrong and where (a JSON path, a header name,
 * a file name) and never contain secrets (passwords, tokens, private key material).
 *
 * @module
 */

/** Every error code the library can produce. Stable: new codes may be added, none is renamed. */
export const ERROR_CODES = [
  // input formats
  'BAD_INPUT', // generic malformed input (JSON, base64, structure)
  'BAD_REFERENCE', // malformed image reference
  'BAD_DIGEST', // malformed digest string
  'BAD_PAYLOAD', // simple-signing payload does not parse / is ambiguous
  'BAD_MANIFEST', // OCI/Docker manifest does not parse
  'BAD_SIGNATURE_LAYER', // a signature layer is malformed (annotations, media type)
  'BAD_BUNDLE', // a Sigstore bundle (cosign v3 signature) or its DSSE envelope does not parse
  'BAD_KEY', // public/private key cannot be parsed or is unsupported
  'UNSUPPORTED_KEY', // key parses but its type/size is not supported by cosign
  'WRONG_PASSWORD', // encrypted private key could not be opened with the given password
  'TOO_LARGE', // input or response exceeds a size limit
  // claim checks
  'DIGEST_MISMATCH', // content does not match its digest, or the payload names another image
  'REFERENCE_MISMATCH', // docker-reference does not match the expected identity
  'ANNOTATION_MISMATCH', // a required annotation is missing or differs
  'TYPE_MISMATCH', // critical.type or layer media type is not cosign's
  'SIGNATURE_INVALID', // cryptographic signature check failed
  'CERTIFICATE_INVALID', // keyless: certificate chain, SCT or validity period check failed
  'IDENTITY_MISMATCH', // keyless: the certificate names another identity or issuer
  'TLOG_INVALID', // transparency-log entry (SET, inclusion proof, checkpoint, body) check failed
  'TRUST_ROOT_INVALID', // trusted root (file, TUF, SIGSTORE_* variables) missing or malformed
  // verification outcomes
  'NO_SIGNATURES', // the image has no signatures at all
  'NO_MATCHING_SIGNATURES', // signatures exist but none verifies
  'NOT_FOUND', // tag / manifest / repository not found
  // registry transport
  'REGISTRY_UNAUTHORIZED', // 401/403 after auth attempts
  'REGISTRY_THROTTLED', // 429 after retries
  'REGISTRY_UNAVAILABLE', // network error, timeout, 5xx after retries
  'REGISTRY_ERROR', // other unexpected registry response
  'INSECURE_REGISTRY', // plain HTTP refused for a non-loopback registry
  // KMS
  'KMS_ERROR', // generic provider failure
  'KMS_KEY_DISABLED',
  'KMS_ACCESS_DENIED',
  'KMS_THROTTLED',
  'KMS_WRONG_KEY_USAGE',
  'KMS_UNSUPPORTED_KEY_SPEC',
  'KMS_NETWORK',
  'KMS_SDK_MISSING', // optional peer dependency not installed
  'UNKNOWN_KEY_SCHEME',
  // local files / environment
  'FILE_EXISTS',
  'IO_ERROR',
  'POLICY_INVALID',
  'UNSUPPORTED', // feature cosign has that we do not support yet
  'NO_IDENTITY_TOKEN', // keyless signing found no OIDC identity token
  'SIGSTORE_ERROR', // a Fulcio, Rekor or timestamp authority call failed or answered something unusable
  'USAGE', // CLI usage error
] as const;

/** A stable error code. */
export type CosignErrorCode = (typeof ERROR_CODES)[number];

/** Extra, non-secret context attached to an error (e.g. a JSON path, a layer index, an HTTP status). */
export type ErrorDetails = Readonly<Record<string, unknown>>;

/** The library's only error type. `code` is stable; `message` is for humans; `cause` is kept. */
export class CosignError extends Error {
  override readonly name = 'CosignError';
  readonly code: CosignErrorCode;
  readonly details: ErrorDetails | undefined;

  constructor(code: CosignErrorCode, message: string, options?: { cause?: unknown; details?: ErrorDetails }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options?.details;
  }

  /** JSON form for `--output json` and structured logs (never includes secrets: messages are built without them). */
  toJSON(): { code: CosignErrorCode; message: string; details?: ErrorDetails } {
    return this.details === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, details: this.details };
  }
}

/** Type guard; optionally narrows to a given code. */
export function isCosignError(e: unknown, code?: CosignErrorCode): e is CosignError {
  return e instanceof CosignError && (code === undefined || e.code === code);
}

/** Shorthand used by parsers: `throw fail('BAD_PAYLOAD', 'critical.type must be a string')`. */
export function fail(code: CosignErrorCode, message: string, options?: { cause?: unknown; details?: ErrorDetails }): CosignError {
  return new CosignError(code, message, options);
}
