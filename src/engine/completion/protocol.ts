/** Messages between the engine (main thread) and the model worker. */
import type { RunnerStats } from '../model/ortModel';
import type { BackendOptions, ModelInfo } from './backend';
import type { CompletionRequest, CoreResult } from './core';
import type { CacheFeed } from '../ensemble/host';

/** workerData of the model worker. */
export type WorkerInit = BackendOptions;

export type ToWorker =
  | { readonly type: 'load' }
  | { readonly type: 'complete'; readonly id: number; readonly req: CompletionRequest }
  | { readonly type: 'cancel'; readonly id: number }
  | { readonly type: 'stats'; readonly id: number }
  | { readonly type: 'resetCache'; readonly id: number }
  | { readonly type: 'feedCache'; readonly feed: CacheFeed }
  | { readonly type: 'dispose' };

export interface WireError {
  readonly name: string;
  readonly message: string;
  /** ModelFolderError's file, when it is one. */
  readonly file?: string;
}

export type FromWorker =
  | { readonly type: 'loaded'; readonly info: ModelInfo }
  | { readonly type: 'loadError'; readonly error: WireError }
  | { readonly type: 'result'; readonly id: number; readonly result: CoreResult }
  | { readonly type: 'stats'; readonly id: number; readonly stats: RunnerStats }
  | { readonly type: 'done'; readonly id: number }
  | { readonly type: 'error'; readonly id: number; readonly error: WireError }
  | { readonly type: 'log'; readonly level: 'trace' | 'debug' | 'info' | 'warn' | 'error'; readonly message: string }
  | { readonly type: 'disposed' };

export function toWire(err: unknown): WireError {
  if (err instanceof Error) {
    const file = (err as Error & { file?: unknown }).file;
    let message = err.message;
    let cause = (err as Error & { cause?: unknown }).cause;
    for (let i = 0; cause instanceof Error && i < 4; i++) {
      message += `: caused by: ${cause.message}`;
      cause = (cause as Error & { cause?: unknown }).cause;
    }
    return { name: err.name, message, file: typeof file === 'string' ? file : undefined };
  }
  return { name: 'Error', message: String(err) };
}
