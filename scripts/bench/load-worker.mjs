// The load generator's thread: runs the loops of load.mjs (and soak-load.mjs) on request from
// the main thread, so the client gets an event loop, and a core, of its own.
//
// Protocol: the main thread posts `{id, task, args}` and gets `{id, result}` or `{id, error}`,
// with `{id, progress}` messages in between for tasks that report; `{stop: id}` ends a task
// that runs until stopped.
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import * as load from './load.mjs';

const TASKS = {
  closedLoop: load.closedLoop,
  pacedLoop: load.pacedLoop,
  refreshChains: load.refreshChains,
  loginStorm: load.loginStorm,
  churnRun: load.churnRun,
  soak: async (args, hooks) => (await import('./soak-load.mjs')).soak(args, hooks),
};

if (!isMainThread) {
  const stops = new Set();
  parentPort.on('message', async (message) => {
    if (message.stop !== undefined) {
      stops.add(message.stop);
      return;
    }
    const { id, task, args } = message;
    try {
      const result = await TASKS[task](args, {
        stopped: () => stops.has(id),
        progress: (progress) => parentPort.postMessage({ id, progress }),
      });
      parentPort.postMessage({ id, result });
    } catch (error) {
      parentPort.postMessage({ id, error: error.stack ?? String(error) });
    } finally {
      stops.delete(id);
    }
  });
}

/** The main thread's handle on a load worker: `run(task, args, onProgress)` → `{done, stop()}`. */
export class LoadWorker {
  constructor() {
    this.worker = new Worker(new URL(import.meta.url));
    this.next = 0;
    this.calls = new Map();
    this.worker.on('message', ({ id, result, error, progress }) => {
      const call = this.calls.get(id);
      if (!call) return;
      if (progress !== undefined) return call.onProgress?.(progress);
      this.calls.delete(id);
      if (error !== undefined) call.reject(new Error(`load worker, ${call.task}: ${error}`));
      else call.resolve(result);
    });
    this.worker.on('error', (error) => {
      for (const call of this.calls.values()) call.reject(error);
      this.calls.clear();
    });
  }

  /** Starts a task; `done` resolves with its result. */
  run(task, args, onProgress) {
    const id = this.next++;
    const done = new Promise((resolve, reject) => this.calls.set(id, { task, resolve, reject, onProgress }));
    this.worker.postMessage({ id, task, args });
    return { done, stop: () => this.worker.postMessage({ stop: id }) };
  }

  /** Runs a task to its end. */
  call(task, args, onProgress) {
    return this.run(task, args, onProgress).done;
  }

  /** Ends the thread. */
  terminate() {
    return this.worker.terminate();
  }
}
