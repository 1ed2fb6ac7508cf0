import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { type TwinvaultError, UsageError } from '../../errors.js';
import { sizeMismatch } from '../body.js';
import { fixedSizeChunks } from './chunks.js';
import { MAX_PARTS } from './part-size.js';
import { checksumParams } from './write-params.js';

export interface MultipartUploadJob {
  client: S3Client;
  bucket: string;
  /** The full key in the bucket (prefix included). */
  key: string;
  /** The key as the caller named it, for messages. */
  displayKey: string;
  params: Record<string, unknown>;
  checksum: 'sha256' | 'md5';
  partSize: number;
  concurrency: number;
  createOnly: boolean;
  expectedSize: number;
  mapError: (err: unknown, operation: string) => TwinvaultError;
}

/**
 * Uploads a stream in parts, `concurrency` at a time, each with its own checksum so the server
 * rejects a damaged part and the SDK resends just that part. Any failure aborts the upload, so
 * no invisible parts are left behind to be billed.
 */
export async function multipartUpload(
  job: MultipartUploadJob,
  openStream: () => Promise<AsyncIterable<Uint8Array>>,
): Promise<void> {
  const { client, bucket, key } = job;
  let uploadId: string | undefined;
  let stream: AsyncIterable<Uint8Array> | undefined;
  try {
    const created = await client.send(
      new CreateMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        ...job.params,
        ...(job.checksum === 'sha256' ? { ChecksumAlgorithm: 'SHA256' } : {}),
      }),
    );
    uploadId = created.UploadId;
    stream = await openStream();
    const parts = await uploadParts(job, uploadId!, stream);
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
        ...(job.createOnly ? { IfNoneMatch: '*' } : {}),
      }),
    );
  } catch (err) {
    (stream as { destroy?: () => void } | undefined)?.destroy?.();
    if (uploadId !== undefined) {
      await client
        .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
        .catch(() => {});
    }
    throw job.mapError(err, 'multipart upload');
  }
}

async function uploadParts(job: MultipartUploadJob, uploadId: string, stream: AsyncIterable<Uint8Array>) {
  const parts: CompletedPart[] = [];
  const inFlight = new Set<Promise<void>>();
  let firstError: unknown;
  let partNumber = 0;
  let bytesRead = 0;
  try {
    for await (const chunk of fixedSizeChunks(stream, job.partSize)) {
      partNumber++;
      bytesRead += chunk.length;
      if (bytesRead > job.expectedSize)
        throw sizeMismatch(`upload of ${job.displayKey}`, job.expectedSize, bytesRead);
      if (partNumber > MAX_PARTS)
        throw new UsageError(`upload of ${job.displayKey} needs more than ${MAX_PARTS} parts`);
      const number = partNumber;
      const task = uploadPart(job, uploadId, number, chunk).then(
        (part) => {
          parts[number - 1] = part;
        },
        (err) => {
          firstError ??= err;
        },
      );
      const tracked = task.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      if (inFlight.size >= job.concurrency) await Promise.race(inFlight);
      if (firstError !== undefined) break;
    }
  } finally {
    await Promise.allSettled(inFlight);
  }
  if (firstError !== undefined) throw firstError;
  if (bytesRead !== job.expectedSize)
    throw sizeMismatch(`upload of ${job.displayKey}`, job.expectedSize, bytesRead);
  return parts;
}

async function uploadPart(job: MultipartUploadJob, uploadId: string, partNumber: number, data: Buffer) {
  const checksum = checksumParams(data, job.checksum);
  const command = new UploadPartCommand({
    Bucket: job.bucket,
    Key: job.key,
    UploadId: uploadId,
    PartNumber: partNumber,
    Body: data,
    ContentLength: data.length,
    ...checksum,
  });
  const result = await job.client.send(command);
  const part: CompletedPart = { PartNumber: partNumber, ETag: result.ETag! };
  if (checksum.ChecksumSHA256 !== undefined) part.ChecksumSHA256 = checksum.ChecksumSHA256;
  return part;
}
