import { afterEach, describe, expect, it, vi } from 'vitest';
import { CliError } from '../src/cli/exit-codes';
import { colorEnabled, createProgress, formatAgo, formatDuration, parseDuration, renderTable, styles, truncate } from '../src/cli/format';

describe('renderTable', () => {
  it('pads columns to their widest cell, right-aligns numbers on request, and leaves no trailing spaces', () => {
    const table = renderTable(['ID', { header: 'CPUS', align: 'right' }, 'NOTE'], [
      ['sled-0', 64, null],
      ['sled-10', 8, 'spare'],
    ]);
    expect(table.split('\n')).toEqual([
      'ID       CPUS  NOTE',
      'sled-0     64  -',
      'sled-10     8  spare',
    ]);
  });

  it('truncates long cells with an ellipsis and keeps one row on one line', () => {
    const table = renderTable([{ header: 'KEY', maxWidth: 8 }, 'X'], [['wf-123456789/step', true], ['a\nb', false]]);
    expect(table.split('\n')).toEqual(['KEY       X', 'wf-1234…  yes', 'a b       no']);
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abc', 4)).toBe('abc');
  });

  it('uses ANSI only when colour is asked for', () => {
    expect(renderTable(['A'], [['x']])).not.toContain('\x1b[');
    expect(renderTable(['A'], [['x']], { color: true })).toContain('\x1b[1mA\x1b[22m');
  });

  it('lines columns up as the terminal shows them: colour takes no room, a wide character two columns', () => {
    const { red } = styles(true);
    const table = renderTable(['NAME', 'STATE'], [
      ['日本', red('failed')],
      ['web-1', 'ok'],
    ]);
    expect(table.split('\n')).toEqual(['NAME   STATE', `日本   ${red('failed')}`, 'web-1  ok']);
  });

  it('truncates by display width, keeping colour codes whole', () => {
    const { red } = styles(true);
    const table = renderTable([{ header: 'K', maxWidth: 5 }, 'X'], [['日本語テキスト', red('abcdefgh')]], { maxCellWidth: 4 });
    const [, row] = table.split('\n');
    expect(row).toBe(`日本…  ${red('abc')}…`);
  });

  it('enables colour only on a TTY without NO_COLOR', () => {
    expect(colorEnabled({ write: () => true, isTTY: true }, {})).toBe(true);
    expect(colorEnabled({ write: () => true, isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled({ write: () => true, isTTY: false }, {})).toBe(false);
    expect(colorEnabled({ write: () => true }, {})).toBe(false);
  });
});

describe('durations', () => {
  it('formats the two largest units', () => {
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(45_000)).toBe('45s');
    expect(formatDuration(192_000)).toBe('3m 12s');
    expect(formatDuration(2 * 3_600_000)).toBe('2h');
    expect(formatDuration(2 * 86_400_000 + 4 * 3_600_000 + 59_000)).toBe('2d 4h');
  });

  it('says how long ago, or how long until', () => {
    const now = new Date('2026-01-01T12:00:00Z');
    expect(formatAgo('2026-01-01T11:56:48Z', now)).toBe('3m 12s ago');
    expect(formatAgo(new Date('2026-01-01T12:05:00Z'), now)).toBe('in 5m');
    expect(formatAgo('2026-01-01T12:00:00.400Z', now)).toBe('just now');
    expect(formatAgo(null, now)).toBe('-');
    expect(formatAgo('not a date', now)).toBe('-');
  });

  it('parses flags such as 10m, 1h, 2d, 200ms and 1h30m', () => {
    expect(parseDuration('10m', '--since')).toBe(600_000);
    expect(parseDuration('1h', '--since')).toBe(3_600_000);
    expect(parseDuration('2d', '--since')).toBe(172_800_000);
    expect(parseDuration('200ms', '--latency')).toBe(200);
    expect(parseDuration('1.5s', '--latency')).toBe(1_500);
    expect(parseDuration('1h30m', '--since')).toBe(5_400_000);
    expect(parseDuration('0', '--since')).toBe(0);
  });

  it.each(['', '10', 'm', '10x', '1h 30m', '-5m', '10m!'])('rejects %j with a usage error naming the flag', (text) => {
    let error: unknown;
    try {
      parseDuration(text, '--stalled-for');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CliError);
    expect(error).toMatchObject({ exitCode: 2 });
    expect((error as CliError).message).toMatch(/^--stalled-for: '.*' is not a duration; .*10m/);
  });
});

describe('createProgress', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('without a TTY writes plain lines on changes and periodically, then the final line', () => {
    vi.useFakeTimers();
    const out: string[] = [];
    const progress = createProgress('waiting for saga wf-1', { stream: { write: (t: string) => out.push(t) }, plainEveryMs: 5_000, now: Date.now });
    progress.update('reserve-sled');
    progress.update('reserve-sled'); // unchanged: no new line
    vi.advanceTimersByTime(5_000);
    progress.done('completed');
    progress.done('again'); // safe to call twice
    expect(out).toEqual([
      'waiting for saga wf-1 (0ms)\n',
      'waiting for saga wf-1: reserve-sled (0ms)\n',
      'waiting for saga wf-1: reserve-sled (5s)\n',
      'completed\n',
    ]);
    expect(out.join('')).not.toContain('\r');
  });

  it('on a TTY redraws one line in place and clears it when done', () => {
    vi.useFakeTimers();
    const out: string[] = [];
    const progress = createProgress('waiting', { stream: { write: (t: string) => out.push(t), isTTY: true } });
    vi.advanceTimersByTime(300);
    progress.update('step 2');
    progress.done();
    expect(out.length).toBeGreaterThanOrEqual(4);
    expect(out.slice(0, -1).every((frame) => frame.startsWith('\r\x1b[2K') && !frame.includes('\n'))).toBe(true);
    expect(out.at(-2)).toContain('waiting: step 2');
    expect(out.at(-1)).toBe('\r\x1b[2K');
  });
});
