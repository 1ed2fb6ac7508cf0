import { z } from 'zod';
import { BYTE_SIZE_PATTERN, DURATION_PATTERN, parseByteSize, parseDuration } from './units.js';

/** Sizes and durations as the config file writes them, shared by every part of the schema. */
export const byteSize = z
  .union([
    z.number().int().nonnegative(),
    z.string().regex(BYTE_SIZE_PATTERN, 'expected a size such as "16MiB"'),
  ])
  .transform((value) => parseByteSize(value)!)
  .meta({ description: 'A number of bytes, or a size with a unit: "16MiB", "5GiB", "100MB".' });

export const duration = z
  .string()
  .regex(DURATION_PATTERN, 'expected a duration such as "30s", "2m" or "1h"')
  .transform((value) => parseDuration(value)!)
  .meta({ description: 'A duration: "500ms", "30s", "2m", "1h30m", "7d".' });
