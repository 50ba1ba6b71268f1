/**
 * Simple-signing payloads: build (cosign's exact bytes), strict parse, claim checks, and the
 * `cosign verify` output.
 *
 * ```ts
 * import { buildPayload, parsePayload } from 'cosign-ts/payload';
 *
 * const bytes = buildPayload({ dockerReference: 'registry.example.com/app', digest: 'sha256:…' }); // cosign's exact bytes
 * const payload = parsePayload(bytes); // strict: duplicate keys, wrong types and unknown critical keys are refused
 * ```
 *
 * @module cosign-ts/payload
 */
export {
  COSIGN_SIGNATURE_TYPE,
  DEFAULT_MAX_PAYLOAD_BYTES,
  buildPayload,
  buildPayloadForImage,
  checkClaims,
  matchDockerReference,
  parsePayload,
  verifyOutputJson,
} from './payload.js';
export type {
  BuildPayloadInput,
  ClaimExpectations,
  ParsePayloadOptions,
  ReferenceExpectation,
  ReferenceMatch,
  SimpleSigningPayload,
  VerifyOutputItem,
} from './payload.js';
