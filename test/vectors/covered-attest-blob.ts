/**
 * Ids of the `vectors.json` entries that `attest-blob.test.ts` runs and reproduces (cosign's `dsse/key/attest-blob`
 * vectors). Merged with the other `covered-*.ts` lists by the coverage check in `legacy-sig.test.ts`.
 */
export const COVERED_ATTEST_BLOB_VECTOR_IDS: readonly string[] = [
  'cosign-attest-blob-slsa-provenance-blob-slsaprovenance',
  'cosign-attest-blob-slsa-provenance-blob-custom',
  'cosign-attest-blob-slsa-provenance-other-blob-any',
  'cosign-attest-blob-empty-subject-blob-any',
  'cosign-attest-blob-missing-sha256-blob-any',
  'cosign-attest-blob-multiple-subjects-blob-slsaprovenance',
  'cosign-attest-blob-multiple-subjects-blob-notreallyslsaprovenance',
  'cosign-attest-blob-multiple-subjects-invalid-blob-slsaprovenance',
];
