import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import type { TwinvaultError } from '../../errors.js';
import { partRanges, partSizeFor } from './part-size.js';

export interface MultipartCopyJob {
  client: S3Client;
  bucket: string;
  key: string;
  /** "bucket/key", URL-encoded, as CopySource wants it. */
  copySource: string;
  size: number;
  /** Every part copy requires this ETag, so a source replaced mid-copy fails instead of splicing. */
  sourceEtag: string;
  /** Content type, metadata, encryption and storage class for the new object. */
  params: Record<string, unknown>;
  partSize: number;
  concurrency: number;
  mapError: (err: unknown, operation: string) => TwinvaultError;
}

/**
 * Copies an object server-side in ranges with UploadPartCopy: the only way S3 copies objects
 * over 5 GiB, which a single CopyObject refuses. The bytes never pass through this process.
 */
export async function multipartCopy(job: MultipartCopyJob): Promise<void> {
  const { client, bucket, key } = job;
  let uploadId: string | undefined;
  try {
    const created = await client.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...job.params }),
    );
    uploadId = created.UploadId!;
    const ranges = partRanges(job.size, partSizeFor(job.size, job.partSize));
    const parts: CompletedPart[] = new Array(ranges.length);
    let next = 0;
    let failed = false;
    const worker = async () => {
      while (next < ranges.length && !failed) {
        const index = next++;
        const range = ranges[index]!;
        const result = await client
          .send(
            new UploadPartCopyCommand({
              Bucket: bucket,
              Key: key,
              UploadId: uploadId,
              PartNumber: index + 1,
              CopySource: job.copySource,
              CopySourceRange: `bytes=${range.start}-${range.end}`,
              ...(job.sourceEtag ? { CopySourceIfMatch: job.sourceEtag } : {}),
            }),
          )
          .catch((err: unknown) => {
            failed = true;
            throw err;
          });
        parts[index] = { PartNumber: index + 1, ETag: result.CopyPartResult!.ETag! };
      }
    };
    // Wait for every worker, failed or not, so no part copy is still running when we abort.
    const results = await Promise.allSettled(
      Array.from({ length: Math.min(job.concurrency, ranges.length) }, worker),
    );
    const failure = results.find((result) => result.status === 'rejected');
    if (failure) throw failure.reason;
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
  } catch (err) {
    if (uploadId !== undefined) {
      await client
        .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
        .catch(() => {});
    }
    throw job.mapError(err, 'multipart copy');
  }
}
