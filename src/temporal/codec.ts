/**
 * Encryption at rest: a payload codec that encrypts every payload unwind's worker, client and
 * CLI send to Temporal (workflow and activity inputs and results, update and query arguments,
 * memos, heartbeat details) with AES-256-GCM, so histories and visibility rows hold ciphertext.
 *
 * Encoded payload: metadata `encoding: binary/encrypted`, `encryption-key-id: <keyId>`; data
 * `iv (12 random bytes) ‖ ciphertext ‖ tag (16 bytes)`, the ciphertext being the whole original
 * `Payload` message (metadata and data) in protobuf form. The current key encrypts; any key of
 * the set decrypts the payloads that name it, so old histories stay readable after a rotation.
 * Payloads that are not encrypted pass through decoding unchanged: turning encryption on keeps
 * histories written before readable.
 *
 * Keys, from the environment (neither set: no codec, payloads stay plaintext):
 * - `UNWIND_ENCRYPTION_KEY_FILE=<path>`: a JSON file
 *   `{"current":"<keyId>","keys":{"<keyId>":"<base64 of 32 bytes>", ...}}`
 *   (`newKeyFile` writes one, `rotateKeyFile` adds a key and makes it current);
 * - `UNWIND_ENCRYPTION_KEYS="k2:<base64>,k1:<base64>"`: the first one encrypts.
 *
 * Not encrypted: search attributes (visibility must index them: `UnwindSaga`, `UnwindState`,
 * `UnwindStep`, `UnwindProgressAt`, `UnwindError`), workflow ids, and failure messages and
 * stack traces (the SDK keeps them outside payloads).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';

/** `encoding` metadata of an encrypted payload. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** Metadata naming the key that encrypted a payload. */
export const KEY_ID_METADATA = 'encryption-key-id';

const KEY_FILE_FORMAT = '{"current":"<keyId>","keys":{"<keyId>":"<base64 of 32 bytes>", …}}';
const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A key set: the key that encrypts, and every key that may decrypt. */
export interface EncryptionKeys {
  /** The id of the key new payloads are encrypted with. */
  current: string;
  /** Every key by id (32 bytes each), the current one included. */
  keys: Readonly<Record<string, Uint8Array>>;
  /** Where the keys came from (`UNWIND_ENCRYPTION_KEY_FILE=<path>`, `UNWIND_ENCRYPTION_KEYS`), named in errors. */
  source?: string;
}

/** The keys cannot be used: missing file, not JSON, a key of the wrong size, no current key. */
export class EncryptionKeyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EncryptionKeyError';
  }
}

/** An encrypted payload cannot be decrypted: its key is not in the set, or it fails authentication. */
export class PayloadDecryptionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PayloadDecryptionError';
  }
}

/** The key file's JSON, as agreed with the cluster scripts that write it. */
interface KeyFile {
  current: string;
  keys: Record<string, string>;
}

/**
 * Reads the key set from `UNWIND_ENCRYPTION_KEY_FILE` or `UNWIND_ENCRYPTION_KEYS`.
 * @returns undefined when neither is set (encryption off)
 * @throws EncryptionKeyError naming the variable (and file, and key id) at fault; an empty
 *   value counts as set, so a blank variable never turns encryption off unnoticed.
 */
export function loadEncryptionKeys(env: NodeJS.ProcessEnv = process.env): EncryptionKeys | undefined {
  const file = env.UNWIND_ENCRYPTION_KEY_FILE;
  const list = env.UNWIND_ENCRYPTION_KEYS;
  if (file !== undefined && list !== undefined) {
    throw new EncryptionKeyError('both UNWIND_ENCRYPTION_KEY_FILE and UNWIND_ENCRYPTION_KEYS are set: set one of them');
  }
  if (file !== undefined) return readKeyFile(file);
  if (list !== undefined) return parseKeyList(list);
  return undefined;
}

/** Reads and checks a key file. @throws EncryptionKeyError */
export function readKeyFile(path: string): EncryptionKeys {
  const source = `UNWIND_ENCRYPTION_KEY_FILE=${path}`;
  if (path.trim() === '') throw new EncryptionKeyError('UNWIND_ENCRYPTION_KEY_FILE is set but empty: give the path of a key file, or unset it');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? `no such file (a key file is ${KEY_FILE_FORMAT}; \`openssl rand -base64 32\` makes a key)` : (err as Error).message;
    throw new EncryptionKeyError(`${source}: ${reason}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new EncryptionKeyError(`${source} is not JSON (${(err as Error).message}); expected ${KEY_FILE_FORMAT}`, {
      cause: err,
    });
  }
  const shape = json as Partial<KeyFile> | null;
  if (typeof shape !== 'object' || shape === null || Array.isArray(shape)) throw new EncryptionKeyError(`${source}: expected a JSON object {"current":…,"keys":{…}}`);
  if (typeof shape.keys !== 'object' || shape.keys === null || Array.isArray(shape.keys)) {
    throw new EncryptionKeyError(`${source}: no "keys" object ({"<keyId>":"<base64 of 32 bytes>", …})`);
  }
  if (shape.current === undefined) throw new EncryptionKeyError(`${source}: no "current" key id`);
  if (typeof shape.current !== 'string') throw new EncryptionKeyError(`${source}: "current" must be a key id (a string)`);
  const keys: Record<string, Uint8Array> = {};
  for (const [id, value] of Object.entries(shape.keys as Record<string, unknown>)) {
    if (typeof value !== 'string') throw new EncryptionKeyError(`${source}: key '${id}' must be a base64 string`);
    keys[id] = decodeKey(id, value, source);
  }
  return checkKeys({ current: shape.current, keys, source });
}

/** Parses `k2:<base64>,k1:<base64>` (the first encrypts). @throws EncryptionKeyError */
export function parseKeyList(list: string, source = 'UNWIND_ENCRYPTION_KEYS'): EncryptionKeys {
  const entries = list
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new EncryptionKeyError(`${source} is set but holds no key: give <keyId>:<base64 of 32 bytes>[,…], or unset it`);
  const keys: Record<string, Uint8Array> = {};
  for (const entry of entries) {
    const colon = entry.indexOf(':');
    const id = colon < 0 ? '' : entry.slice(0, colon).trim();
    if (id === '') throw new EncryptionKeyError(`${source}: '${entry.slice(0, 8)}…' is not <keyId>:<base64 of 32 bytes>`);
    if (keys[id] !== undefined) throw new EncryptionKeyError(`${source}: key '${id}' is given twice`);
    keys[id] = decodeKey(id, entry.slice(colon + 1).trim(), source);
  }
  const current = entries[0]!.slice(0, entries[0]!.indexOf(':')).trim();
  return checkKeys({ current, keys, source });
}

function decodeKey(id: string, base64: string, source: string): Uint8Array {
  const key = Buffer.from(base64, 'base64');
  const unpadded = (text: string) => text.replace(/=+$/, '');
  const what = unpadded(key.toString('base64')) !== unpadded(base64) ? 'not valid base64' : key.length !== KEY_BYTES ? `${key.length} bytes` : undefined;
  if (what !== undefined) {
    throw new EncryptionKeyError(`${source}: key '${id}' is ${what}; AES-256 needs the base64 of exactly 32 bytes (e.g. \`openssl rand -base64 32\`)`);
  }
  return key;
}

function checkKeys(keys: EncryptionKeys): EncryptionKeys {
  const source = keys.source ?? 'the encryption keys';
  const ids = Object.keys(keys.keys);
  if (ids.length === 0) throw new EncryptionKeyError(`${source}: no keys`);
  if (keys.current === '') throw new EncryptionKeyError(`${source}: no "current" key id`);
  if (keys.keys[keys.current] === undefined) throw new EncryptionKeyError(`${source}: the current key '${keys.current}' is not among the keys (${ids.join(', ')})`);
  for (const id of ids) {
    if (keys.keys[id]!.length !== KEY_BYTES) throw new EncryptionKeyError(`${source}: key '${id}' is ${keys.keys[id]!.length} bytes; AES-256 needs exactly 32`);
  }
  return keys;
}

const utf8 = new TextEncoder();
const fromUtf8 = (bytes: Uint8Array | null | undefined) => (bytes ? Buffer.from(bytes).toString('utf8') : undefined);

/**
 * An AES-256-GCM payload codec over `keys`: encodes with the current key, decodes with the key
 * each payload names, and passes payloads that are not encrypted through.
 * @throws EncryptionKeyError when the key set is unusable (no current key, a key not 32 bytes)
 */
export function createEncryptionCodec(keys: EncryptionKeys): PayloadCodec {
  checkKeys(keys);
  // Loaded here, not at import: the CLI reads keys for every Temporal command, and the
  // protobufs take a tenth of a second to load.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Payload: PayloadMessage } = (require('@temporalio/proto') as { temporal: typeof temporal }).temporal.api.common.v1;
  const source = keys.source ?? 'the encryption keys';
  const currentKey = keys.keys[keys.current]!;
  const currentId = utf8.encode(keys.current);
  const encoding = utf8.encode(ENCRYPTED_ENCODING);
  return {
    async encode(payloads: Payload[]): Promise<Payload[]> {
      return payloads.map((payload) => {
        const plain = PayloadMessage.encode(payload).finish();
        const iv = randomBytes(IV_BYTES);
        const cipher = createCipheriv(ALGORITHM, currentKey, iv);
        const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
        return { metadata: { encoding, [KEY_ID_METADATA]: currentId }, data };
      });
    },
    async decode(payloads: Payload[]): Promise<Payload[]> {
      return payloads.map((payload) => {
        if (fromUtf8(payload.metadata?.encoding) !== ENCRYPTED_ENCODING) return payload;
        const id = fromUtf8(payload.metadata?.[KEY_ID_METADATA]);
        if (id === undefined) throw new PayloadDecryptionError(`an encrypted payload has no ${KEY_ID_METADATA}: corrupted payload`);
        const key = keys.keys[id];
        if (key === undefined) {
          throw new PayloadDecryptionError(`payload encrypted with key '${id}', which is not in ${source} (keys: ${Object.keys(keys.keys).join(', ')})`);
        }
        const data = payload.data ?? new Uint8Array();
        if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadDecryptionError(`cannot decrypt a payload with key '${id}' (${source}): corrupted payload (${data.length} bytes)`);
        let plain: Buffer;
        try {
          const decipher = createDecipheriv(ALGORITHM, key, data.subarray(0, IV_BYTES));
          decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
          plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
        } catch (err) {
          throw new PayloadDecryptionError(`cannot decrypt a payload with key '${id}' (${source}): wrong key or corrupted payload`, { cause: err });
        }
        return PayloadMessage.decode(plain);
      });
    },
  };
}

/** ./encrypted-failures.ts from source (tsx, vitest), .js from dist/. */
const ENCRYPTED_FAILURES_PATH = join(__dirname, `encrypted-failures${extname(__filename)}`);

/**
 * The data converter unwind's worker, client and CLI use: when keys are configured (see
 * {@link loadEncryptionKeys}), the encryption codec, and failure messages and stack traces moved
 * into payloads so the codec encrypts them too (./encrypted-failures.ts); else undefined (the
 * SDK's default, plaintext).
 * @throws EncryptionKeyError when keys are configured but unusable
 */
export function unwindDataConverter(env: NodeJS.ProcessEnv = process.env): { payloadCodecs: PayloadCodec[]; failureConverterPath: string } | undefined {
  const keys = loadEncryptionKeys(env);
  return keys && { payloadCodecs: [createEncryptionCodec(keys)], failureConverterPath: ENCRYPTED_FAILURES_PATH };
}

/** 32 random bytes, base64: a new key. */
export function newKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

/**
 * Writes a new key file at `path` holding one key, `keyId` (default `k1`), as the current one.
 * The file is created with mode 0600 and never overwritten: losing a key loses every payload it
 * encrypted.
 * @throws EncryptionKeyError when the file exists
 */
export function newKeyFile(path: string, keyId = 'k1'): EncryptionKeys {
  checkKeyId(keyId);
  const file: KeyFile = { current: keyId, keys: { [keyId]: newKey() } };
  try {
    writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    const exists = (err as NodeJS.ErrnoException).code === 'EEXIST';
    throw new EncryptionKeyError(exists ? `${path} exists: not overwritten (rotateKeyFile adds a key to it)` : `cannot write ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return readKeyFile(path);
}

/**
 * Adds a new key to the key file at `path`, and makes it current unless `current: false`; the
 * old keys stay, so payloads they encrypted still decrypt. The new id is `keyId`, else `k<n+1>`
 * after the highest `k<n>`. The file is replaced atomically (mode 0600).
 *
 * Workers and clients read the keys when they start. A process that has not read the new key
 * cannot decrypt what it encrypts, so with several processes rotate in two steps: add the key
 * with `current: false`, restart everything, then {@link setCurrentKey} and restart again.
 * @returns the new key set
 * @throws EncryptionKeyError when the file is missing or unusable, or the id is taken
 */
export function rotateKeyFile(path: string, options: { keyId?: string; current?: boolean } = {}): EncryptionKeys {
  const before = readKeyFile(path);
  const ids = Object.keys(before.keys);
  const next = options.keyId ?? `k${Math.max(0, ...ids.map((id) => Number(/^k(\d+)$/.exec(id)?.[1] ?? 0))) + 1}`;
  checkKeyId(next);
  if (before.keys[next] !== undefined) throw new EncryptionKeyError(`UNWIND_ENCRYPTION_KEY_FILE=${path}: key '${next}' exists already`);
  return rewriteKeyFile(path, (raw) => ({ ...raw, current: options.current === false ? raw.current : next, keys: { ...raw.keys, [next]: newKey() } }));
}

/**
 * Makes `keyId`, already in the key file at `path`, the one that encrypts (the second step of a
 * two-step rotation, see {@link rotateKeyFile}).
 * @throws EncryptionKeyError when the file is unusable or has no such key
 */
export function setCurrentKey(path: string, keyId: string): EncryptionKeys {
  const before = readKeyFile(path);
  if (before.keys[keyId] === undefined) {
    throw new EncryptionKeyError(`UNWIND_ENCRYPTION_KEY_FILE=${path}: no key '${keyId}' (keys: ${Object.keys(before.keys).join(', ')})`);
  }
  return rewriteKeyFile(path, (raw) => ({ ...raw, current: keyId }));
}

/** Rewrites the key file through a temporary file and a rename; other fields of the JSON are kept. */
function rewriteKeyFile(path: string, change: (raw: KeyFile & Record<string, unknown>) => KeyFile & Record<string, unknown>): EncryptionKeys {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as KeyFile & Record<string, unknown>;
  const temp = `${path}.${process.pid}.tmp`;
  if (existsSync(temp)) throw new EncryptionKeyError(`${temp} exists: is another rotation running?`);
  writeFileSync(temp, `${JSON.stringify(change(raw), null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  renameSync(temp, path);
  return readKeyFile(path);
}

function checkKeyId(keyId: string): void {
  if (keyId === '' || /[,:\s]/.test(keyId)) throw new EncryptionKeyError(`key id '${keyId}' must be non-empty, without spaces, ',' or ':'`);
}
