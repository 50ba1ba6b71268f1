/**
 * Simple-signing payloads (build, strict parse, claim checks, `cosign verify` output) and the JSON
 * encoders that make cosign's bytes: a Go `encoding/json` clone and an RFC 8785 canonicaliser.
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
export { GoStruct, compareUtf8, goFormatFloat, goMarshal, goMarshalBytes, goQuote, goStruct } from './gojson.js';
export type { GoMarshalOptions, GoValue } from './gojson.js';
export { canonicalJson } from './jcs.js';
export { decodeUtf8Strict, parseStrictJson } from '../json.js';
export {
  COSIGN_SIGNATURE_TYPE,
  DEFAULT_MAX_PAYLOAD_BYTES,
  buildPayload,
  buildPayloadForImage,
  checkClaims,
  matchDockerReference,
  parsePayload,
  rekorBundleOutputValue,
  rfc3161TimestampOutputValue,
  verifyOutputJson,
} from './payload.js';
export type {
  BuildPayloadInput,
  ClaimExpectations,
  ParsePayloadOptions,
  ReferenceExpectation,
  ReferenceMatch,
  RekorBundleLike,
  SimpleSigningPayload,
  VerifyOutputItem,
} from './payload.js';
