/**
 * Encryption at rest: the AES-256-GCM payload codec, its keys (file and list), rotation and
 * errors; then end to end on the dev server, where a client without the keys finds only
 * ciphertext in a saga's history and the unwind client with them reads the saga back.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Payload } from '@temporalio/common';
import { defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../src/activities';
import { type UnwindClient, createUnwindClient } from '../src/client';
import { connectionConfig, sdkConnectOptions } from '../src/temporal/connection';
import { createDevServerEnv } from '../src/testing/environments';
import { startTestRack, type TestRack } from '../src/testing/rack';
import { bundleUnwindWorkflows } from '../src/testing/worker';
import { runUnwind } from './cli-helpers';
import {
  ENCRYPTED_ENCODING,
  EncryptionKeyError,
  KEY_ID_METADATA,
  PayloadDecryptionError,
  createEncryptionCodec,
  loadEncryptionKeys,
  newKey,
  newKeyFile,
  rotateKeyFile,
  setCurrentKey,
  unwindDataConverter,
} from '../src/temporal/codec';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'unwind-codec-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = 'hunter2-the-root-password-of-sled-7';
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');
const toPayload = (value: unknown) => defaultPayloadConverter.toPayload(value)!;
const fromPayload = (payload: Payload) => defaultPayloadConverter.fromPayload(payload);
const keyList = (...ids: string[]) => ids.map((id) => `${id}:${newKey()}`).join(',');
const rejection = async (promise: Promise<unknown>): Promise<Error> => {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
};
const thrown = (fn: () => unknown): Error => {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
};

describe('the encryption codec', () => {
  it('round-trips payloads, metadata included, and hides the plaintext', async () => {
    const codec = createEncryptionCodec(loadEncryptionKeys({ UNWIND_ENCRYPTION_KEYS: keyList('k1') })!);
    const originals = [toPayload({ secret: SECRET, n: 1 }), toPayload(undefined), toPayload(new Uint8Array([0, 1, 2])), toPayload('')];
    const encoded = await codec.encode(originals);
    expect(encoded).toHaveLength(originals.length);
    for (const payload of encoded) {
      expect(text(payload.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
      expect(text(payload.metadata?.[KEY_ID_METADATA])).toBe('k1');
      expect(Object.keys(payload.metadata ?? {}).sort()).toEqual(['encoding', KEY_ID_METADATA]);
      expect(Buffer.from(payload.data!).includes(SECRET)).toBe(false);
      expect(Buffer.from(payload.data!).includes('json/plain')).toBe(false);
    }
    const decoded = await codec.decode(encoded);
    const bytes = (p: Payload) => ({ metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, text(v)])), data: Array.from(p.data ?? []) });
    expect(decoded.map(bytes)).toEqual(originals.map(bytes));
    expect(fromPayload(decoded[0]!)).toEqual({ secret: SECRET, n: 1 });
    expect(fromPayload(decoded[1]!)).toBeUndefined();
    expect(await codec.encode([])).toEqual([]);
  });

  it('uses a fresh IV every time: the same payload encrypts differently', async () => {
    const codec = createEncryptionCodec(loadEncryptionKeys({ UNWIND_ENCRYPTION_KEYS: keyList('k1') })!);
    const [a, b] = await codec.encode([toPayload(SECRET), toPayload(SECRET)]);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
    expect(Buffer.from(a!.data!).subarray(0, 12).equals(Buffer.from(b!.data!).subarray(0, 12))).toBe(false);
  });

  it('passes payloads that are not encrypted through decode unchanged', async () => {
    const codec = createEncryptionCodec(loadEncryptionKeys({ UNWIND_ENCRYPTION_KEYS: keyList('k1') })!);
    const plain = [toPayload({ written: 'before encryption' }), toPayload(null), { metadata: {}, data: new Uint8Array([7]) }];
    const decoded = await codec.decode(plain);
    expect(decoded[0]).toBe(plain[0]);
    expect(decoded).toEqual(plain);
  });

  it('rotates: the new key encrypts, the old one still decrypts', async () => {
    const path = join(dir, 'rotate.json');
    const first = newKeyFile(path);
    expect(first.current).toBe('k1');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const before = createEncryptionCodec(first);
    const old = await before.encode([toPayload({ secret: SECRET })]);

    const rotated = rotateKeyFile(path);
    expect(rotated.current).toBe('k2');
    expect(Object.keys(rotated.keys).sort()).toEqual(['k1', 'k2']);
    const file = JSON.parse(readFileSync(path, 'utf8')) as { current: string; keys: Record<string, string> };
    expect(file.current).toBe('k2');
    expect(Object.keys(file.keys).sort()).toEqual(['k1', 'k2']);
    expect(Buffer.from(file.keys.k1!, 'base64').equals(Buffer.from(first.keys.k1!))).toBe(true);

    const after = createEncryptionCodec(loadEncryptionKeys({ UNWIND_ENCRYPTION_KEY_FILE: path })!);
    const fresh = await after.encode([toPayload({ secret: SECRET })]);
    expect(text(fresh[0]!.metadata?.[KEY_ID_METADATA])).toBe('k2');
    expect(fromPayload((await after.decode(old))[0]!)).toEqual({ secret: SECRET });
    expect(fromPayload((await after.decode(fresh))[0]!)).toEqual({ secret: SECRET });
    // A codec that has only the old key refuses the new payloads, naming the key and the set.
    expect((await rejection(before.decode(fresh))).message).toBe(`payload encrypted with key 'k2', which is not in UNWIND_ENCRYPTION_KEY_FILE=${path} (keys: k1)`);
    expect(thrown(() => newKeyFile(path)).message).toMatch(/exists: not overwritten/);

    // In two steps: k3 added for decoding everywhere first, then made current.
    const staged = rotateKeyFile(path, { current: false });
    expect([staged.current, Object.keys(staged.keys).sort()]).toEqual(['k2', ['k1', 'k2', 'k3']]);
    expect(setCurrentKey(path, 'k3').current).toBe('k3');
    expect(thrown(() => setCurrentKey(path, 'k7')).message).toBe(`UNWIND_ENCRYPTION_KEY_FILE=${path}: no key 'k7' (keys: k1, k2, k3)`);
    expect(thrown(() => rotateKeyFile(path, { keyId: 'k1' })).message).toMatch(/key 'k1' exists already/);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('takes the first key of UNWIND_ENCRYPTION_KEYS as current, the others for decoding', async () => {
    const k1 = newKey();
    const old = createEncryptionCodec(loadEncryptionKeys({ UNWIND_ENCRYPTION_KEYS: `k1:${k1}` })!);
    const encoded = await old.encode([toPayload(SECRET)]);
    const both = createEncryptionCodec(loadEncryptionKeys({ UNWIND_ENCRYPTION_KEYS: `k2:${newKey()}, k1:${k1}` })!);
    expect(fromPayload((await both.decode(encoded))[0]!)).toBe(SECRET);
    expect(text((await both.encode([toPayload(1)]))[0]!.metadata?.[KEY_ID_METADATA])).toBe('k2');
    expect((await rejection(createEncryptionCodec(loadEncryptionKeys({ UNWIND_ENCRYPTION_KEYS: keyList('k2') })!).decode(encoded))).message).toBe(
      "payload encrypted with key 'k1', which is not in UNWIND_ENCRYPTION_KEYS (keys: k2)",
    );
  });

  it('refuses a wrong key under the same id, and tampered ciphertext, tag or IV', async () => {
    const codec = createEncryptionCodec(loadEncryptionKeys({ UNWIND_ENCRYPTION_KEYS: keyList('k1') })!);
    const impostor = createEncryptionCodec(loadEncryptionKeys({ UNWIND_ENCRYPTION_KEYS: keyList('k1') })!);
    const [payload] = await codec.encode([toPayload({ secret: SECRET })]);
    const wrong = await rejection(impostor.decode([payload!]));
    expect(wrong).toBeInstanceOf(PayloadDecryptionError);
    expect(wrong.message).toBe("cannot decrypt a payload with key 'k1' (UNWIND_ENCRYPTION_KEYS): wrong key or corrupted payload");
    for (const at of [0, 20, payload!.data!.length - 1]) {
      const data = Buffer.from(payload!.data!);
      data[at]! ^= 0x01;
      expect((await rejection(codec.decode([{ ...payload, data }]))).message).toMatch(/wrong key or corrupted payload$/);
    }
    expect((await rejection(codec.decode([{ ...payload, data: new Uint8Array(5) }]))).message).toMatch(/corrupted payload \(5 bytes\)$/);
    expect((await rejection(codec.decode([{ metadata: { encoding: payload!.metadata!.encoding! }, data: payload!.data! }]))).message).toMatch(/no encryption-key-id/);
  });
});

describe('encryption keys', () => {
  const keyFile = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  it('are off by default: no variable, no codec', () => {
    expect(loadEncryptionKeys({})).toBeUndefined();
    expect(unwindDataConverter({})).toBeUndefined();
    expect(unwindDataConverter({ UNWIND_ENCRYPTION_KEYS: keyList('a') })?.payloadCodecs).toHaveLength(1);
  });

  it('read the agreed file format', () => {
    const k = newKey();
    const path = keyFile('agreed.json', JSON.stringify({ current: 'b', keys: { a: newKey(), b: k } }));
    const keys = loadEncryptionKeys({ UNWIND_ENCRYPTION_KEY_FILE: path })!;
    expect(keys.current).toBe('b');
    expect(Buffer.from(keys.keys.b!).toString('base64')).toBe(k);
    expect(keys.source).toBe(`UNWIND_ENCRYPTION_KEY_FILE=${path}`);
  });

  it('are refused with a message naming the file, the variable and the key', () => {
    const load = (env: NodeJS.ProcessEnv) => {
      const error = thrown(() => loadEncryptionKeys(env));
      expect(error).toBeInstanceOf(EncryptionKeyError);
      return error.message;
    };
    const missing = join(dir, 'missing.json');
    expect(load({ UNWIND_ENCRYPTION_KEY_FILE: missing })).toBe(`UNWIND_ENCRYPTION_KEY_FILE=${missing}: no such file (a key file is {"current":"<keyId>","keys":{"<keyId>":"<base64 of 32 bytes>", …}}; \`openssl rand -base64 32\` makes a key)`);
    const notJson = keyFile('not-json.json', '{current: k1');
    expect(load({ UNWIND_ENCRYPTION_KEY_FILE: notJson })).toMatch(new RegExp(`^UNWIND_ENCRYPTION_KEY_FILE=${notJson} is not JSON \\(`));
    const short = keyFile('short.json', JSON.stringify({ current: 'k1', keys: { k1: newKey(), k0: Buffer.alloc(16).toString('base64') } }));
    expect(load({ UNWIND_ENCRYPTION_KEY_FILE: short })).toBe(
      `UNWIND_ENCRYPTION_KEY_FILE=${short}: key 'k0' is 16 bytes; AES-256 needs the base64 of exactly 32 bytes (e.g. \`openssl rand -base64 32\`)`,
    );
    const noCurrent = keyFile('no-current.json', JSON.stringify({ keys: { k1: newKey() } }));
    expect(load({ UNWIND_ENCRYPTION_KEY_FILE: noCurrent })).toBe(`UNWIND_ENCRYPTION_KEY_FILE=${noCurrent}: no "current" key id`);
    const unknownCurrent = keyFile('unknown-current.json', JSON.stringify({ current: 'k9', keys: { k1: newKey() } }));
    expect(load({ UNWIND_ENCRYPTION_KEY_FILE: unknownCurrent })).toBe(`UNWIND_ENCRYPTION_KEY_FILE=${unknownCurrent}: the current key 'k9' is not among the keys (k1)`);
    expect(load({ UNWIND_ENCRYPTION_KEYS: 'k1:not*base64' })).toMatch(/^UNWIND_ENCRYPTION_KEYS: key 'k1' is not valid base64/);
    expect(load({ UNWIND_ENCRYPTION_KEYS: `${newKey()}` })).toMatch(/is not <keyId>:<base64 of 32 bytes>/);
    expect(load({ UNWIND_ENCRYPTION_KEYS: `k1:${newKey()},k1:${newKey()}` })).toBe("UNWIND_ENCRYPTION_KEYS: key 'k1' is given twice");
    expect(load({ UNWIND_ENCRYPTION_KEYS: '' })).toMatch(/^UNWIND_ENCRYPTION_KEYS is set but holds no key/);
    expect(load({ UNWIND_ENCRYPTION_KEY_FILE: '' })).toMatch(/^UNWIND_ENCRYPTION_KEY_FILE is set but empty/);
    expect(load({ UNWIND_ENCRYPTION_KEY_FILE: short, UNWIND_ENCRYPTION_KEYS: keyList('a') })).toMatch(/both .* set/);
    // The key itself never appears in a message.
    const k = newKey();
    expect(load({ UNWIND_ENCRYPTION_KEYS: `k1:${k.slice(0, 20)}` })).not.toContain(k.slice(0, 20));
  });
});

/** Every payload in a history (or any protobuf message as the SDK decodes it), with its path. */
function payloadsIn(value: unknown, path = '', found: { path: string; payload: Payload }[] = []): { path: string; payload: Payload }[] {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return found;
  const record = value as Record<string, unknown>;
  if (record.metadata && typeof record.metadata === 'object' && 'data' in record && !Array.isArray(record.metadata)) {
    found.push({ path, payload: record as Payload });
    return found;
  }
  for (const [key, child] of Object.entries(record)) payloadsIn(child, `${path}.${key}`, found);
  return found;
}

describe('encryption at rest on the dev server', () => {
  const taskQueue = 'codec-at-rest';
  const secret = 'zebra-secret-4471';
  let env: TestWorkflowEnvironment;
  let testRack: TestRack;
  let connection: NativeConnection;
  let worker: Worker;
  let running: Promise<void>;
  let client: UnwindClient;
  let encEnv: NodeJS.ProcessEnv;

  beforeAll(async () => {
    [env, testRack] = await Promise.all([createDevServerEnv(), startTestRack()]);
    const keyPath = join(dir, 'cluster-keys.json');
    newKeyFile(keyPath, 'k1');
    // The worker and the client find the server through a profile file, as a deployment would.
    const profile = join(dir, 'temporal.toml');
    writeFileSync(profile, `[profile.default]\naddress = "${env.address}"\nnamespace = "${env.namespace ?? 'default'}"\n`);
    encEnv = { TEMPORAL_CONFIG_FILE: profile, UNWIND_ENCRYPTION_KEY_FILE: keyPath };
    const config = connectionConfig({}, encEnv);
    connection = await NativeConnection.connect(sdkConnectOptions(config));
    worker = await Worker.create({
      connection,
      namespace: config.namespace,
      taskQueue,
      workflowBundle: await bundleUnwindWorkflows(),
      activities: createActivities({ rack: testRack.rack, backoff: { baseMs: 20, capMs: 200 } }),
      dataConverter: unwindDataConverter(encEnv),
    });
    running = worker.run();
    client = await createUnwindClient({ env: encEnv, taskQueue });
  });

  afterAll(async () => {
    await client?.close();
    worker?.shutdown();
    await running;
    await connection?.close();
    await testRack?.stop();
    await env?.teardown();
  });

  it('stores only ciphertext: a client without the keys finds no plaintext in any payload, the unwind client reads the saga back', async () => {
    const saga = await client.disks.create({ name: secret, sizeGiB: 10, requestId: 'at-rest-1' });
    const result = await saga.result();
    expect(result.regions).toHaveLength(3);

    // The raw history through a client without the codec (the environment's own).
    const history = await env.client.workflow.getHandle(saga.workflowId).fetchHistory();
    const found = payloadsIn(history);
    // Search attributes stay plaintext by design (visibility indexes them); everything else is encrypted.
    const encrypted = found.filter((f) => !f.path.includes('searchAttributes'));
    expect(encrypted.length).toBeGreaterThan(10);
    for (const { path, payload } of found) {
      expect(Buffer.from(payload.data ?? []).includes(secret), `${path} holds the secret`).toBe(false);
      for (const value of Object.values(payload.metadata ?? {})) expect(Buffer.from(value).includes(secret)).toBe(false);
    }
    for (const { path, payload } of encrypted) {
      expect(text(payload.metadata?.encoding), path).toBe(ENCRYPTED_ENCODING);
      expect(text(payload.metadata?.[KEY_ID_METADATA]), path).toBe('k1');
    }
    // Nor anywhere else in the history but in the workflow id (resource names are part of it).
    const bytesAsText = (_key: string, v: unknown) =>
      v && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer' ? Buffer.from((v as { data: number[] }).data).toString('latin1') : v;
    const raw = JSON.stringify(history, bytesAsText);
    expect(raw).toContain(secret);
    expect(raw.replaceAll(saga.workflowId, '')).not.toContain(secret);
    const paths = encrypted.map((f) => f.path).join('\n');
    // The saga's input, its result, the request memo and the activities' inputs and results.
    expect(paths).toMatch(/workflowExecutionStartedEventAttributes\.input/);
    expect(paths).toMatch(/workflowExecutionStartedEventAttributes\.memo/);
    expect(paths).toMatch(/workflowExecutionCompletedEventAttributes\.result/);
    expect(paths).toMatch(/activityTaskScheduledEventAttributes\.input/);
    expect(paths).toMatch(/activityTaskCompletedEventAttributes\.result/);

    // Without the keys the result cannot be read; with them, input, memo and result read back.
    await expect(env.client.workflow.getHandle(saga.workflowId).result()).rejects.toThrow();
    const described = await client.temporal.workflow.getHandle(saga.workflowId).describe();
    expect(described.memo?.unwindRequest).toMatchObject({ id: 'at-rest-1', params: { name: secret, sizeGiB: 10 } });
    const startedInput = (await client.temporal.workflow.getHandle(saga.workflowId).fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes?.input;
    const [decodedInput] = await createEncryptionCodec(loadEncryptionKeys(encEnv)!).decode(startedInput?.payloads ?? []);
    expect(fromPayload(decodedInput!)).toMatchObject({ name: secret, sizeGiB: 10 });
    // The same request again: the client reads the encrypted memo to recognise it.
    const again = await client.disks.create({ name: secret, sizeGiB: 10, requestId: 'at-rest-1' });
    expect(again.existing).toBe(true);
    expect(await again.result()).toEqual(result);
    expect((await client.sagas.status(saga.workflowId)).state).toBe('completed');

    // A client whose key set lacks k1 is told which key is missing.
    const stranger = await createUnwindClient({ env: { TEMPORAL_ADDRESS: env.address, UNWIND_ENCRYPTION_KEYS: keyList('k9') }, taskQueue });
    try {
      const error = await rejection(stranger.sagas.result(saga.workflowId));
      expect(`${error.message} ${(error.cause as Error | undefined)?.message ?? ''}`).toContain(
        "payload encrypted with key 'k1', which is not in UNWIND_ENCRYPTION_KEYS (keys: k9)",
      );
    } finally {
      await stranger.close();
    }

    // The CLI, with the key file in its environment, shows the saga.
    const shown = await runUnwind(['show', saga.workflowId, '--json'], { TEMPORAL_ADDRESS: env.address, UNWIND_ENCRYPTION_KEY_FILE: encEnv.UNWIND_ENCRYPTION_KEY_FILE });
    expect(shown.stderr).toBe('');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(saga.workflowId);
  });
});
