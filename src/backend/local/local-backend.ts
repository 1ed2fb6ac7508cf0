import { randomBytes } from 'node:crypto';
import { constants, createWriteStream } from 'node:fs';
import { access, chmod, copyFile, link, open, rename, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import {
  AlreadyExistsError,
  isTwinvaultError,
  LocalPathError,
  NotFoundError,
  UsageError,
} from '../../errors.js';
import { makePrivateFolder, PRIVATE_FILE } from '../../fs/private-files.js';
import type {
  AbandonedWrites,
  Backend,
  BackendCapabilities,
  BodySource,
  CopyOptions,
  DeleteManyResult,
  GetOptions,
  ListOptions,
  ObjectHead,
  ObjectInfo,
  PutOptions,
} from '../backend.js';
import { sizeMismatch } from '../body.js';
import { streamCopy } from '../copy.js';
import { compareKeys, validateKey, validatePrefix } from '../keys.js';
import { resolveRange } from '../range.js';
import { removeAbandonedParts } from './abandoned-writes.js';
import { errnoCode, fsError } from './fs-errors.js';
import { walkSorted } from './list-sorted.js';

/** Partial writes live here until they are complete, so a crash never leaves a torn object. */
const TEMP_DIR = '.twinvault-tmp';

export interface LocalBackendOptions {
  /** fsync each object before it is renamed into place (DESIGN invariant 1). Default true. */
  fsync?: boolean;
}

/**
 * A repository in a plain folder: each object is a file at root/<key>, byte for byte. Writes go
 * to a temporary file first and are renamed (or hard-linked, for create-only) into place.
 * Object metadata is not kept: manifests, not file attributes, hold what restore needs.
 * Folders are made 0700 and objects 0600, whatever the umask: a repository holds copies of every
 * backed-up file, so it is its user's alone (DESIGN invariant 9), as restic's local backend does.
 */
export class LocalBackend implements Backend {
  readonly capabilities: BackendCapabilities = { metadata: false, createOnly: 'atomic' };
  readonly location: string;
  private readonly root: string;
  private readonly fsync: boolean;

  constructor(root: string, options: LocalBackendOptions = {}) {
    this.root = resolve(root);
    this.location = pathToFileURL(this.root).href;
    this.fsync = options.fsync ?? true;
  }

  async check(): Promise<void> {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(this.root);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') {
        throw new NotFoundError(`repository folder ${this.root} does not exist`, {
          hint: 'create it, or run "twinvault init" to create the repository there',
        });
      }
      throw fsError(err, 'open repository folder', this.root);
    }
    if (!info.isDirectory()) {
      throw new LocalPathError(`repository location ${this.root} is a file, not a folder`, {
        hint: 'point the repository at a folder',
      });
    }
    try {
      await access(this.root, constants.R_OK | constants.W_OK | constants.X_OK);
    } catch (err) {
      throw fsError(err, 'write to repository folder', this.root);
    }
    await this.probeWrite();
  }

  async create(): Promise<void> {
    try {
      await makePrivateFolder(this.root);
    } catch (err) {
      throw fsError(err, 'create folder', this.root);
    }
  }

  async put(key: string, body: BodySource, options: PutOptions = {}): Promise<void> {
    const path = this.pathOf(key);
    const temp = await this.writeTemp(body, key);
    try {
      await this.moveIntoPlace(temp, path, key, options.createOnly ?? false);
    } catch (err) {
      await unlink(temp).catch(() => {});
      throw err;
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<Readable> {
    const path = this.pathOf(key);
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      throw this.readError(err, key, path);
    }
    try {
      const info = await handle.stat();
      // A key that names a folder (a prefix of other keys) is not an object.
      if (!info.isFile()) throw this.notFound(key);
      if (!options.range) return handle.createReadStream();
      const { start, end } = resolveRange(options.range, info.size, key);
      if (end < start) {
        await handle.close();
        return Readable.from([]);
      }
      return handle.createReadStream({ start, end });
    } catch (err) {
      await handle.close().catch(() => {});
      throw this.readError(err, key, path);
    }
  }

  async head(key: string): Promise<ObjectHead> {
    const path = this.pathOf(key);
    try {
      const info = await stat(path);
      if (!info.isFile()) throw this.notFound(key);
      return { ...toInfo(key, info), contentType: undefined, metadata: {} };
    } catch (err) {
      throw this.readError(err, key, path);
    }
  }

  async *list(prefix = '', options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    validateLocalPrefix(prefix);
    // Start the walk at the deepest folder the prefix names, not at the root.
    const slash = prefix.lastIndexOf('/');
    const dirKey = slash < 0 ? '' : prefix.slice(0, slash + 1);
    const dir = dirKey === '' ? this.root : join(this.root, ...dirKey.split('/').filter(Boolean));
    const startAfter = options.startAfter;
    const skip = (key: string) =>
      key === TEMP_DIR || (!key.startsWith(prefix) && !prefix.startsWith(`${key}/`));
    for await (const found of walkSorted(dir, dirKey, skip)) {
      if (!found.key.startsWith(prefix)) continue;
      if (startAfter !== undefined && compareKeys(found.key, startAfter) <= 0) continue;
      try {
        yield toInfo(found.key, await stat(found.path));
      } catch (err) {
        // Deleted between readdir and stat: it is simply no longer there.
        if (errnoCode(err) !== 'ENOENT') throw fsError(err, 'read', found.path);
      }
    }
  }

  async copy(sourceKey: string, key: string, options: CopyOptions = {}): Promise<void> {
    if (options.from && options.from !== this) return streamCopy(options.from, sourceKey, this, key);
    const sourcePath = this.pathOf(sourceKey);
    const path = this.pathOf(key);
    const temp = await this.tempPath();
    try {
      try {
        await copyFile(sourcePath, temp);
      } catch (err) {
        throw this.readError(err, sourceKey, sourcePath);
      }
      // copyFile gives the copy its source's mode, and an older version wrote objects 0644.
      await chmod(temp, PRIVATE_FILE).catch((err: unknown) => {
        throw fsError(err, 'write', temp);
      });
      if (this.fsync) await syncFile(temp);
      await this.moveIntoPlace(temp, path, key, false);
    } catch (err) {
      await unlink(temp).catch(() => {});
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    try {
      await unlink(path);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      throw fsError(err, 'delete', path);
    }
    await this.removeEmptyParents(dirname(path));
  }

  async deleteMany(keys: Iterable<string>): Promise<DeleteManyResult> {
    const result: DeleteManyResult = { deleted: 0, failed: [] };
    for (const key of keys) {
      try {
        await this.delete(key);
        result.deleted++;
      } catch (error) {
        result.failed.push({ key, error: error as Error });
      }
    }
    return result;
  }

  async close(): Promise<void> {}

  removeAbandonedWrites(before: Date, options: { dryRun: boolean }): Promise<AbandonedWrites> {
    return removeAbandonedParts(join(this.root, TEMP_DIR), before, options.dryRun);
  }

  private pathOf(key: string): string {
    validateKey(key);
    if (key === TEMP_DIR || key.startsWith(`${TEMP_DIR}/`)) {
      throw new UsageError(`invalid object key ${JSON.stringify(key)}: ${TEMP_DIR}/ is reserved`);
    }
    return join(this.root, ...key.split('/'));
  }

  private async tempPath(): Promise<string> {
    const dir = join(this.root, TEMP_DIR);
    try {
      await makePrivateFolder(dir);
    } catch (err) {
      throw fsError(err, 'create folder', dir);
    }
    return join(dir, `${randomBytes(12).toString('hex')}.part`);
  }

  private async writeTemp(body: BodySource, key: string): Promise<string> {
    const temp = await this.tempPath();
    let written = 0;
    let sourceError: unknown;
    try {
      const source = await body.open();
      source.once('error', (err) => {
        sourceError = err;
      });
      const out = createWriteStream(temp, { flags: 'wx', mode: PRIVATE_FILE });
      await pipeline(
        source,
        async function* (chunks: AsyncIterable<Uint8Array>) {
          for await (const chunk of chunks) {
            written += chunk.length;
            yield chunk;
          }
        },
        out,
      );
      if (written !== body.size) throw sizeMismatch(`upload of ${key}`, body.size, written);
      if (this.fsync) await syncFile(temp);
      return temp;
    } catch (err) {
      await unlink(temp).catch(() => {});
      if (isTwinvaultError(err)) throw err;
      // An error of the caller's body factory (not a filesystem error) is the caller's to handle.
      if (!(err instanceof Error && 'code' in err)) throw err;
      // Say which side failed: reading the data (a source file, another store) or writing here.
      if (err === sourceError)
        throw fsError(err, 'read', (err as NodeJS.ErrnoException).path ?? `the data for ${key}`);
      throw fsError(err, 'write', temp);
    }
  }

  private async moveIntoPlace(temp: string, path: string, key: string, createOnly: boolean): Promise<void> {
    // A concurrent delete may remove the freshly made parent folder; one more try then suffices.
    for (let attempt = 0; ; attempt++) {
      await this.makeParent(path);
      try {
        if (createOnly) {
          await link(temp, path);
          await unlink(temp);
        } else {
          await rename(temp, path);
        }
        // The new name must survive a crash too, before any manifest can point at it.
        if (this.fsync) await syncFolder(dirname(path));
        return;
      } catch (err) {
        const code = errnoCode(err);
        if (code === 'ENOENT' && attempt === 0) continue;
        if (code === 'EEXIST' && createOnly) {
          throw new AlreadyExistsError(`object ${JSON.stringify(key)} already exists in ${this.location}`);
        }
        throw fsError(err, 'write', path);
      }
    }
  }

  private async makeParent(path: string): Promise<void> {
    const parent = dirname(path);
    let first: string | undefined;
    try {
      first = await makePrivateFolder(parent);
    } catch (err) {
      throw fsError(err, 'create folder', parent);
    }
    // New folders are entries in their parents: sync each level so the path survives a crash.
    if (first !== undefined && this.fsync) {
      for (let dir = parent; dir.length >= first.length; dir = dirname(dir)) await syncFolder(dirname(dir));
    }
  }

  private async removeEmptyParents(dir: string): Promise<void> {
    while (dir.startsWith(this.root + sep)) {
      try {
        await rmdir(dir);
      } catch {
        return; // not empty, or gone already: either way, done
      }
      dir = dirname(dir);
    }
  }

  /** access() says yes to root whatever the permissions; only a real write proves it. */
  private async probeWrite(): Promise<void> {
    const temp = join(this.root, `.twinvault-probe-${randomBytes(6).toString('hex')}`);
    try {
      const handle = await open(temp, 'wx', PRIVATE_FILE);
      await handle.close();
      await unlink(temp);
    } catch (err) {
      throw fsError(err, 'write to repository folder', this.root);
    }
  }

  private readError(err: unknown, key: string, path: string) {
    if (isTwinvaultError(err)) return err;
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return this.notFound(key);
    return fsError(err, 'read', path);
  }

  private notFound(key: string) {
    return new NotFoundError(`no object ${JSON.stringify(key)} in ${this.location}`);
  }
}

async function syncFolder(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } catch {
    // Some platforms (Windows) cannot fsync a folder; the file itself was synced.
  } finally {
    await handle.close();
  }
}

function validateLocalPrefix(prefix: string): void {
  validatePrefix(prefix);
  if (prefix.startsWith(TEMP_DIR)) {
    throw new UsageError(`invalid list prefix ${JSON.stringify(prefix)}: ${TEMP_DIR}/ is reserved`);
  }
}

async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function toInfo(key: string, info: { size: number; mtime: Date; mtimeMs: number }): ObjectInfo {
  return { key, size: info.size, etag: `${info.size}-${Math.trunc(info.mtimeMs)}`, lastModified: info.mtime };
}
