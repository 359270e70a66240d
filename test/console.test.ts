/**
 * The operator console in a real browser (Debian's chromium, driven by playwright-core) against
 * a real stack: a dev server, a worker with the real activities over the rack simulator's HTTP,
 * the typed client, and the console serving on a free port. Each page is screenshotted at
 * 1280×800: into docs/console/ (the README shows them) with UNWIND_UPDATE_SCREENSHOTS=1, else
 * into a temporary folder, so a test run leaves the work tree as it was.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SagaUnwoundError, startRollout } from '../src/client';
import { requireChromium } from '../src/console/browser';
import { type RunningConsole, startConsole } from '../src/console/server';
import type { SagaState, SagaStatus } from '../src/schemas/saga';
import { TASK_QUEUE } from '../src/temporal/worker-config';
import { failureOf } from '../src/testing/rack';
import { eventually } from './cli-helpers';
import { useRackTestBed } from './helpers/rack-bed';

const SHOTS = process.env.UNWIND_UPDATE_SCREENSHOTS === '1' ? join(__dirname, '..', 'docs', 'console') : mkdtempSync(join(tmpdir(), 'unwind-console-shots-'));
const VIEWPORT = { width: 1280, height: 800 };
/** A loaded two-core machine: pages and sagas get this long to show what they should. */
const WAIT_MS = 60_000;

const bed = useRackTestBed({
  taskQueue: TASK_QUEUE,
  seed: { ipPool: '10.0.0.0/24', sleds: Array.from({ length: 4 }, () => ({ cpus: 64, memoryGiB: 512, ssds: [{}, {}] })) },
  deps: { stream: { chunkMs: 5 } },
});
const rack = () => bed.testRack.rack;
let consoleServer: RunningConsole;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  // Fails (never skips) without a browser, saying how to get one.
  browser = await chromium.launch({ executablePath: requireChromium() });
  consoleServer = await startConsole(
    { client: bed.client, rack: rack(), temporalUi: 'http://127.0.0.1:8233', namespace: 'default', now: () => new Date() },
    { port: 0 },
  );
  page = await browser.newPage({ viewport: VIEWPORT });
  mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await consoleServer?.close();
});

const url = (path: string) => `${consoleServer.url}${path}`;
const sagaUrl = (id: string) => url(`/saga?id=${encodeURIComponent(id)}`);
const shot = (name: string, fullPage = false) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
const untilStatus = (workflowId: string, done: (s: SagaStatus) => boolean, what = 'to settle'): Promise<SagaStatus> =>
  eventually(() => bed.client.sagas.status(workflowId), done, `${workflowId} ${what}`, WAIT_MS);
const untilState = (workflowId: string, state: SagaState): Promise<SagaStatus> => untilStatus(workflowId, (s) => s.state === state, `to be ${state}`);

/**
 * A disk saga stuck unwinding, its page open: one replica refused (so the saga unwinds), and
 * every region's undo needs an operator until the faults are cleared.
 */
async function stuckDisk(name: string) {
  await rack().faults.script({ operation: 'regions.ensure', kind: 'refused' });
  await rack().faults.setRule({ operation: 'regions.delete', permanent: 'needs-operator' });
  const saga = await bed.client.disks.create({ name, sizeGiB: 10 });
  const wait = (await untilState(saga.workflowId, 'stuck')).waiting[0]!;
  await page.goto(sagaUrl(saga.workflowId));
  return { saga, wait };
}

/** Fills an action's form as a person would: name, reason or comment, then confirms. */
async function act(person: { name: string; field: string }, why: { text: string; field: string }): Promise<void> {
  await page.getByLabel('Your name').fill(person.name);
  await page.getByLabel(why.field === 'reason' ? 'Reason' : 'Comment (optional)').fill(why.text);
  await page.getByRole('button', { name: /^Confirm:/ }).click();
  await page.waitForLoadState('domcontentloaded');
}

describe('the saga page', () => {
  it("shows an unwound saga's failed step, its cause and every undone step, in words and in the graph", async () => {
    await rack().faults.script({ operation: 'regions.ensure', kind: 'refused' });
    const saga = await bed.client.disks.create({ name: 'console-unwound', sizeGiB: 10 });
    const error = await failureOf(saga.result());
    expect(error).toBeInstanceOf(SagaUnwoundError);
    const details = (error as SagaUnwoundError).details;

    await page.goto(sagaUrl(saga.workflowId));
    await expect.poll(() => page.locator('.failed-step').textContent(), { timeout: WAIT_MS }).toBe(details.failedStep);
    expect(await page.locator('.undone-steps').textContent()).toBe(details.undone.join(', '));
    expect(details.undone).toContain('create-disk');
    for (const step of details.undone) {
      await expect.poll(() => page.locator(`tr[data-step="${step}"] .badge`).textContent()).toBe('undone');
    }
    // The graph: Graphviz's SVG, the failed step marked in it, and a legend of the colours.
    const graph = page.locator('figure.graph svg');
    expect(await graph.getAttribute('role')).toBe('img');
    expect(await graph.textContent()).toContain('failed here');
    expect(await page.locator('.legend').textContent()).toContain('undone');
    expect(await page.getByRole('link', { name: /this run in the Temporal UI/ }).getAttribute('href')).toContain(encodeURIComponent(saga.workflowId));
    await shot('saga-unwound', true);
  });

  it('retries a stuck undo from the page once the fault is cleared, and the saga ends unwound', async () => {
    const { saga, wait } = await stuckDisk('console-stuck');
    await shot('saga-stuck');
    await rack().faults.clear();
    await page.getByRole('link', { name: `Retry ${wait.step}` }).first().click();
    expect(await page.locator('#what-happens + p').textContent()).toContain(`Runs the undo of step "${wait.step}"`);
    await act({ name: 'alice', field: 'operator' }, { text: 'storage back; retrying the undo', field: 'reason' });
    expect(await page.locator('.recorded').textContent()).toBe(
      `retry recorded on ${saga.workflowId} at step ${wait.step} (wait ${wait.waitId}) by alice: storage back; retrying the undo`,
    );
    // Other waits of the same unwind (parallel undos refused meanwhile) are retried the same way.
    for (let status = await bed.client.sagas.status(saga.workflowId); status.waiting.length > 0; status = await bed.client.sagas.status(saga.workflowId)) {
      await bed.client.sagas.retry(saga.workflowId, { operator: 'alice', reason: 'storage back', step: status.waiting[0]!.step });
    }
    await untilState(saga.workflowId, 'unwound');
    await page.goto(sagaUrl(saga.workflowId));
    expect(await page.locator('.facts .badge').first().textContent()).toBe('unwound');
    expect(await page.locator('table[aria-label="Decisions"]').textContent()).toContain('retry');
  });
});

describe('skipping an undo', () => {
  it('records the skip with its reason and shows the residue by resource once the saga ends', async () => {
    const { saga, wait } = await stuckDisk('console-residue');
    await page.getByRole('link', { name: `Skip the undo ${wait.step}` }).first().click();
    expect(await page.locator('#what-happens + p').textContent()).toContain('stays in the rack, recorded as residue');
    await act({ name: 'carol', field: 'operator' }, { text: 'region removed by hand, OPS-7', field: 'reason' });
    expect(await page.locator('.recorded').textContent()).toContain(`skip recorded on ${saga.workflowId} at step ${wait.step}`);
    // The other undos are given up too (the disk cannot go while a region it holds stays).
    const settledState = async () => {
      for (;;) {
        const status = await untilStatus(saga.workflowId, (s) => s.state !== 'unwinding');
        const open = status.waiting[0];
        if (!open) return status.state;
        await bed.client.sagas.skip(saga.workflowId, { operator: 'carol', reason: 'cleaned up by hand, OPS-7', step: open.step, waitId: open.waitId });
      }
    };
    expect(await settledState()).toBe('unwound-with-residue');
    await rack().faults.clear();
    await page.goto(sagaUrl(saga.workflowId));
    const residue = await page.locator('table[aria-label="Residue by resource"]').textContent();
    expect(residue).toContain(`${saga.workflowId}/create-disk`);
    expect(residue).toMatch(/disk \S+created/);
    expect(await page.locator('.error-box').first().textContent()).toContain('region removed by hand, OPS-7');
  });
});

describe('approvals', () => {
  it('refuses a person the saga does not list, with its reason, records an approver, then takes the technician\'s hardware report', async () => {
    const saga = await bed.client.sleds.replace({ sledId: 'sled-3', approvers: ['alice'], technicians: ['tom'] });
    await untilState(saga.workflowId, 'awaiting-approval');
    await page.goto(sagaUrl(saga.workflowId));
    await shot('saga-approval');

    await page.getByRole('link', { name: 'Approve' }).click();
    await shot('action-approve');
    await act({ name: 'mallory', field: 'approver' }, { text: 'looks fine to me', field: 'comment' });
    const refusal = await page.locator('.refusal').textContent();
    expect(refusal).toMatch(new RegExp(`^saga ${saga.workflowId} refused approve: .*mallory may not decide`));
    expect((await bed.client.sagas.status(saga.workflowId)).approvals).toEqual([]);

    await page.getByRole('link', { name: 'Back to the saga' }).click();
    await page.getByRole('link', { name: 'Approve' }).click();
    expect(await page.getByLabel('Your name').inputValue()).toBe('mallory');
    await act({ name: 'alice', field: 'approver' }, { text: 'evacuated; tech on site', field: 'comment' });
    expect(await page.locator('.recorded').textContent()).toMatch(new RegExp(`^approved approve-power-off \\(wait \\d+\\) of ${saga.workflowId} by alice at .+: evacuated; tech on site$`));
    const status = await eventually(() => bed.client.sagas.status(saga.workflowId), (s) => s.approvals.length === 1, 'the approval recorded', WAIT_MS);
    expect(status.approvals[0]).toMatchObject({ outcome: 'approved', by: 'alice', comment: 'evacuated; tech on site' });

    // Powered off, the replacement waits for its technician: the page says who, and takes the report.
    await eventually(() => bed.client.sagas.status(saga.workflowId), (s) => s.steps.some((x) => x.name === 'await-hardware' && x.state === 'running'), 'the hardware awaited', WAIT_MS);
    await page.goto(sagaUrl(saga.workflowId));
    expect(await page.locator('section[aria-label="New hardware awaited"]').textContent()).toContain('tom must swap the hardware');
    await page.getByRole('link', { name: 'Report replaced hardware' }).click();
    await page.getByLabel('Your name').fill('tom');
    const serial = (await rack().list('sleds')).find((sled) => sled.id === 'sled-3')!.serial;
    await page.getByLabel('Serial of the new sled').fill(serial);
    await page.getByRole('button', { name: /^Confirm:/ }).click();
    expect(await page.locator('.recorded').textContent()).toBe(`reported to ${saga.workflowId}: new hardware serial ${serial}, replaced by tom (report 1)`);
  });
});

describe('the list', () => {
  it('shows a saga changing state without a reload', async () => {
    await rack().faults.script({ operation: 'regions.ensure', kind: 'needs-operator' });
    const saga = await bed.client.disks.create({ name: 'console-live', sizeGiB: 10 });
    await untilState(saga.workflowId, 'needs-operator');
    await eventually(() => bed.client.sagas.list({ state: 'needs-operator' }), (rows) => rows.some((r) => r.workflowId === saga.workflowId), 'listed', WAIT_MS);

    await page.goto(url('/sagas?q=console-'));
    const row = page.locator(`tr[data-id="${saga.workflowId}"] td[data-state]`);
    await expect.poll(() => row.getAttribute('data-state'), { timeout: WAIT_MS }).toBe('needs-operator');
    await shot('list');
    // A mark on this document: a reload would lose it.
    await page.evaluate(() => Object.assign(globalThis, { unwindMark: 'same document' }));
    await bed.client.sagas.unwind(saga.workflowId, { operator: 'bob', reason: 'not needed after all' });
    await expect.poll(() => row.getAttribute('data-state'), { timeout: WAIT_MS, interval: 500 }).toBe('unwound');
    expect(await page.evaluate(() => (globalThis as { unwindMark?: string }).unwindMark)).toBe('same document');
  });
});

describe('the other pages', () => {
  it('counts sagas by state with needs-a-person first, and shows errors and firmware', async () => {
    await page.goto(url('/'));
    const first = page.locator('.cards').first().locator('[data-count]');
    expect(await first.evaluateAll((cards) => cards.map((c) => c.getAttribute('data-count')))).toEqual(['needs-operator', 'stuck', 'awaiting-approval', 'stalled']);
    await expect.poll(() => page.locator('[data-count="unwound"] .n').textContent(), { timeout: WAIT_MS }).not.toBe('0');
    await shot('overview');
    await page.locator('[data-count="unwound"]').click();
    await expect.poll(() => page.locator('td[data-state]').first().getAttribute('data-state')).toBe('unwound');

    await page.goto(url('/errors?since=1h'));
    expect(await page.locator('table[aria-label^="Failures"]').textContent()).toContain('Refused');
    await shot('errors');

    // A rollout held by a drive that never comes back from its reset: it waits, and says why.
    await rack().faults.drive({ ssdId: 'sled-2-ssd-1', kind: 'never-returns' });
    await rack().firmware.setTarget({ model: 'SIM-NVME-3.2T', version: '2.1.0' }, 'console-test/firmware-target');
    await startRollout(bed.client.temporal, { model: 'SIM-NVME-3.2T', version: '2.1.0', options: { pollIntervalMs: 500, returnTimeoutMs: 600_000 } });
    await page.goto(url('/firmware'));
    expect(await page.locator('table[aria-label="Firmware targets"]').textContent()).toContain('2.1.0');
    await expect
      .poll(async () => (await page.goto(url('/firmware')), await page.locator('table[aria-label="SSDs that wait"]').textContent({ timeout: 1_000 }).catch(() => '')), { timeout: WAIT_MS, interval: 1_000 })
      .toContain('sled-2-ssd-1');
    expect(await page.getByRole('progressbar', { name: 'SIM-NVME-3.2T rollout progress' }).count()).toBe(1);
    await shot('firmware');

    // A wall screen: the same overview, larger.
    await page.setViewportSize({ width: 2560, height: 1440 });
    await page.goto(url('/'));
    await shot('overview-wall');
    await page.setViewportSize(VIEWPORT);
  });
});
