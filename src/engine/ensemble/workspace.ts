/**
 * The workspace cache as the editor feeds it: whole documents when they
 * open (the active one, other open ones, files next to the active one) and
 * the edited lines as the user types. Text is queued and learnt in small
 * slices, so a large file never holds up a completion request; what does not
 * look like source (binary, minified, huge) is skipped with one log line.
 */
import type { Logger } from '../log';
import { ByteCacheModel, DEFAULT_CACHE_MEMORY } from './cacheModel';
import { DEFAULT_SOURCE_LIMITS, skipReason, type SourceLimits } from './sourceText';

export interface WorkspaceCacheOptions {
  readonly memoryBytes?: number;
  readonly limits?: SourceLimits;
  readonly logger: Logger;
  /** Most bytes waiting to be learnt; older queued text is dropped beyond it. */
  readonly maxQueuedBytes?: number;
  /** Documents remembered as already fed (by key and version). */
  readonly maxDocuments?: number;
}

export interface FeedOutcome {
  readonly queued: boolean;
  /** Why the text was not queued (skipped input, or already fed at this version). */
  readonly reason?: string;
}

interface Pending {
  readonly key: string;
  readonly bytes: Uint8Array;
  /** Bytes at the start that serve as context only. */
  readonly contextOnly: number;
  /** Predict each byte before learning it, to track the cache's recent loss. */
  readonly scored: boolean;
  pos: number;
}

const encoder = new TextEncoder();
/** Decay of the recent-loss average (per byte). */
const LOSS_DECAY = 0.98;

export class WorkspaceCache {
  readonly model: ByteCacheModel;
  private readonly limits: SourceLimits;
  private readonly logger: Logger;
  private readonly queue: Pending[] = [];
  private queuedBytes = 0;
  private readonly fed = new Map<string, number>();
  private readonly maxQueued: number;
  private readonly maxDocs: number;
  private readonly scratch = new Float64Array(256);
  /** Recent per-byte losses (bits) of the cache on edits it predicted before learning them, newest last. */
  private readonly recent: number[] = [];
  readonly counters = { documents: 0, skipped: 0, bytesLearnt: 0, droppedBytes: 0 };

  constructor(options: WorkspaceCacheOptions) {
    this.model = new ByteCacheModel({ memoryBytes: options.memoryBytes ?? DEFAULT_CACHE_MEMORY });
    this.limits = options.limits ?? DEFAULT_SOURCE_LIMITS;
    this.logger = options.logger;
    this.maxQueued = options.maxQueuedBytes ?? 4 * 1024 * 1024;
    this.maxDocs = options.maxDocuments ?? 4096;
  }

  /**
   * Queues a whole document (keyed by its URI) unless this version was fed
   * already or it does not look like source.
   */
  feedDocument(key: string, text: string | Uint8Array, version = 0): FeedOutcome {
    if (this.fed.get(key) === version) return { queued: false, reason: 'already fed' };
    const bytes = typeof text === 'string' ? encoder.encode(text) : text;
    const why = skipReason(bytes, this.limits);
    this.remember(key, version);
    if (why) {
      this.counters.skipped++;
      this.logger.info(`cache: skipped ${key}: ${why}`);
      return { queued: false, reason: why };
    }
    this.counters.documents++;
    this.enqueue({ key, bytes, contextOnly: 0, scored: false, pos: 0 });
    return { queued: true };
  }

  /**
   * Queues edited text: `inserted` after `before` (the bytes just before it
   * in the document, context only). These bytes are predicted before they
   * are learnt, which gives the cache's honest recent loss.
   */
  feedEdit(key: string, before: string, inserted: string, version?: number): FeedOutcome {
    const ins = encoder.encode(inserted);
    if (!ins.length) return { queued: false, reason: 'empty' };
    if (ins.length > this.limits.maxLineBytes * 4) return this.feedDocument(key, inserted, version);
    const ctx = encoder.encode(before.slice(-64));
    const why = skipReason(ins, this.limits);
    if (why) return { queued: false, reason: why };
    if (version !== undefined) this.remember(key, version);
    const bytes = new Uint8Array(ctx.length + ins.length);
    bytes.set(ctx, 0);
    bytes.set(ins, ctx.length);
    this.enqueue({ key, bytes, contextOnly: ctx.length, scored: true, pos: ctx.length });
    return { queued: true };
  }

  /** Forgets that a document was fed (closed), so reopening feeds it again. */
  forget(key: string): void {
    this.fed.delete(key);
  }

  private remember(key: string, version: number): void {
    this.fed.delete(key);
    this.fed.set(key, version);
    while (this.fed.size > this.maxDocs) this.fed.delete(this.fed.keys().next().value as string);
  }

  private enqueue(p: Pending): void {
    this.queue.push(p);
    this.queuedBytes += p.bytes.length - p.pos;
    while (this.queuedBytes > this.maxQueued && this.queue.length > 1) {
      const old = this.queue.shift()!;
      const left = old.bytes.length - old.pos;
      this.queuedBytes -= left;
      this.counters.droppedBytes += left;
    }
  }

  /** Bytes waiting to be learnt. */
  get pendingBytes(): number {
    return this.queuedBytes;
  }

  /**
   * Learns queued text for at most `maxBytes` bytes; returns whether
   * anything is left. Callers run it in slices between requests.
   */
  pump(maxBytes = 16384): boolean {
    let budget = maxBytes;
    while (budget > 0 && this.queue.length) {
      const p = this.queue[0]!;
      const end = Math.min(p.bytes.length, p.pos + budget);
      for (let i = p.pos; i < end; i++) {
        if (p.scored) {
          this.model.predict(p.bytes, i, this.scratch);
          this.recent.push(-Math.log2(Math.max(1e-300, this.scratch[p.bytes[i]!]!)));
          if (this.recent.length > 256) this.recent.splice(0, this.recent.length - 256);
        }
        this.model.observeAt(p.bytes, i);
      }
      budget -= end - p.pos;
      this.queuedBytes -= end - p.pos;
      this.counters.bytesLearnt += end - p.pos;
      p.pos = end;
      if (p.pos >= p.bytes.length) this.queue.shift();
    }
    return this.queue.length > 0;
  }

  /** Learns everything queued (tests, the CLI). */
  drain(): void {
    while (this.pump(1 << 20));
  }

  /** The cache's recent losses on edits, oldest first (the ensemble's warm-up evidence). */
  recentBits(): readonly number[] {
    return this.recent;
  }

  /** Decayed mean of recentBits(), or undefined before any edit was scored. */
  recentMeanBits(): number | undefined {
    if (!this.recent.length) return undefined;
    let s = 0;
    let w = 0;
    let f = 1;
    for (let i = this.recent.length - 1; i >= 0; i--) {
      s += f * this.recent[i]!;
      w += f;
      f *= LOSS_DECAY;
    }
    return s / w;
  }

  /** One line for the log. */
  describe(): string {
    const c = this.counters;
    return `cache: ${c.documents} documents, ${c.skipped} skipped, ${(c.bytesLearnt / 1024).toFixed(0)} KB learnt, ${(this.model.memoryBytes / 1048576).toFixed(1)} MB, ${(this.model.fill * 100).toFixed(1)}% full`;
  }
}
