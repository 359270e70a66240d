/**
 * The worker under measurement: its own process, its CPU and memory read on demand.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { DriverMessage, EffectiveOptions, WorkerMessage } from './worker';
import { bounded } from './common';


export interface Usage {
  cpuUs: number;
  rss: number;
  heapUsed: number;
  /** Workflow tasks over 5 s so far: the worker was starved (a loaded machine). */
  slowTasks: number;
}

export class WorkerProcess {
  private nextId = 1;
  private readonly waiting = new Map<number, (usage: Usage) => void>();
  private exited: Promise<number | null>;
  options: EffectiveOptions | undefined;

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolveExit) => child.once('exit', (code) => resolveExit(code)));
    child.on('message', (message: WorkerMessage) => {
      if (message.type === 'usage') {
        this.waiting.get(message.id)?.(message);
        this.waiting.delete(message.id);
      }
    });
  }

  /** Forks the worker and waits until it polls. */
  static async start(env: Record<string, string>): Promise<WorkerProcess> {
    const child = fork(join(__dirname, 'worker.ts'), [], {
      cwd: resolve(__dirname, '..', '..'),
      execArgv: ['--import', 'tsx', ...(process.env.VS_WORKER_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.VS_WORKER_CPU_PROF}`] : [])],
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const worker = new WorkerProcess(child);
    try {
      worker.options = await bounded(
        new Promise<EffectiveOptions>((resolveReady, reject) => {
          child.on('message', (message: WorkerMessage) => {
            if (message.type === 'ready') resolveReady(message.options);
            if (message.type === 'failed') reject(new Error(`the worker failed: ${message.message}`));
          });
          child.once('exit', (code) => reject(new Error(`the worker exited (${code}) before it was ready`)));
        }),
        120_000,
        'starting the worker',
      );
    } catch (err) {
      await worker.stop();
      throw err;
    }
    return worker;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  async usage(): Promise<Usage> {
    const id = this.nextId++;
    const answered = new Promise<Usage>((r) => this.waiting.set(id, r));
    this.child.send({ type: 'usage', id } satisfies DriverMessage);
    return bounded(answered, 30_000, 'the worker answering a usage request');
  }

  /** Asks the worker to stop; kills it (by its pid) if it has not within 45 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    if (this.child.connected) this.child.send({ type: 'shutdown' } satisfies DriverMessage);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 45_000);
    await this.exited;
    clearTimeout(timer);
  }
}

