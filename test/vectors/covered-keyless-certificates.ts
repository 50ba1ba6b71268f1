/**
 * Ids of the `vectors.json` entries that `keyless-certificates.test.ts` runs and reproduces (a Fulcio
 * certificate alone, a certificate brought by the verifier, a keyless legacy blob bundle). Merged with the
 * other `covered-*.ts` lists by the coverage check in `legacy-sig.test.ts`.
 */
export const COVERED_KEYLESS_CERTIFICATE_VECTOR_IDS: readonly string[] = ['ci-fulcio-cert-standalone', 'rs-custom-ca', 'rs-sign-blob-legacy-bundle'];
