/**
 * How large a manifest may be once inflated. A manifest is a few hundred KB of gzip at most per
 * ten thousand files, but gzip inflates up to about 1,000 times: 600 KB can hold a single 600 MB
 * line, which no JavaScript string can hold (V8 stops at 2^29 characters). Every reader therefore
 * bounds each line and the whole, and reports a manifest beyond them as damaged, naming it: these
 * bounds stop hostile or broken input, so they are set far above anything twinvault writes.
 */

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/**
 * One entry line. The longest real one is a symlink at the longest paths systems allow: path and
 * target of 4,096 bytes each on Linux, each up to 6 bytes per byte once JSON escapes control
 * characters (24 KB), plus the exact bytes in base64 when they are not UTF-8 (5.5 KB each), or on
 * Windows 32,767 UTF-16 units each (96 KB of UTF-8); the object key adds at most 1 KB. That is
 * about 200 KB at worst: 1 MiB leaves five times that.
 */
export const MAX_ENTRY_LINE = 1 * MiB;

/**
 * The header line: its size grows with the sources (a name and a folder path each, at most about
 * 200 KB even at Windows' longest paths, usually under 100 bytes) and tags. 16 MiB holds eighty
 * sources at the longest paths, or a hundred thousand ordinary ones.
 */
export const MAX_HEADER_LINE = 16 * MiB;

/**
 * The whole manifest, inflated. An entry takes 250-400 bytes, so a snapshot of 10 million files
 * (more than any one machine's disk holds in practice) inflates to about 4 GB: 16 GiB is four times
 * that, and still stops a gzip bomb after seconds of work rather than hours.
 */
export const MAX_INFLATED = 16 * GiB;

/**
 * Inflated in one piece in memory (faster) up to this size, streamed above it. Manifests shrink 5
 * to 10 times under gzip, so one within IN_MEMORY_DECODE_LIMIT (16 MiB compressed) inflates to
 * less than 200 MiB; a larger result is streamed rather than refused.
 */
export const MAX_IN_MEMORY_INFLATED = 256 * MiB;
