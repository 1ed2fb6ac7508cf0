import { describe } from 'vitest';
import { createTestBucket, s3Server, testBackend } from '../../../test/s3.js';
import { describeBackendConformance } from '../testing/conformance.js';
import { MIB } from './part-size.js';

/** Small thresholds, so multipart upload and multipart copy run with objects of a few MiB. */
const SMALL_PARTS = {
  multipartThreshold: 5 * MIB,
  partSize: 5 * MIB,
  multipartCopyThreshold: 5 * MIB,
  copyPartSize: 5 * MIB,
};

for (const name of ['minio', 'moto'] as const) {
  const server = s3Server(name);
  describe.skipIf(!server)(`S3 on ${name}`, () => {
    describeBackendConformance(
      `s3 (${name})`,
      async () => {
        const { bucket, cleanup } = await createTestBucket(server!, 'conf');
        return { backend: testBackend(server!, bucket, SMALL_PARTS), cleanup };
      },
      { largeObjectSize: 12 * MIB + 123, largeCopySize: 11 * MIB },
    );
  });
}
