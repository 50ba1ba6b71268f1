/**
 * Ids of the `vectors.json` entries that `cosign3-key.test.ts` runs and reproduces (cosign 3.1.1's key-based
 * Sigstore bundle referrers). Merged with the other `covered-*.ts` lists by the coverage check in `legacy-sig.test.ts`.
 */
export const COVERED_COSIGN3_KEY_VECTOR_IDS: readonly string[] = ['c3-key-image-signature-bundle', 'c3-key-image-attestation-bundle'];
