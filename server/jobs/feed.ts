import type { Event, PrismaClient } from '../db/index.js';
import type { PubSub, Subscription } from '../pubsub.js';

/** Events read per database query while catching up. */
const PAGE = 500;

type Listener = (rows: Event[]) => void;

/**
 * One reader of new events per job, shared by all of that job's subscribers:
 * each notification causes one database read, whatever the number of
 * subscribers. The feed exists while the job has subscribers.
 */
class JobFeed {
  readonly listeners = new Set<Listener>();
  /** Resolves once `lastSeq` is known; rows after it are delivered to listeners. */
  readonly ready: Promise<void>;
  private lastSeq = 0;
  private readonly notifications: Subscription<{ jobId: string; lastSeq: number }>;

  constructor(
    private readonly prisma: PrismaClient,
    pubsub: PubSub,
    private readonly jobId: string,
  ) {
    // Listen before reading the current end, so nothing stored in between is missed.
    this.notifications = pubsub.subscribe('job:events', (payload) => payload.jobId === jobId);
    this.ready = prisma.event.aggregate({ where: { jobId }, _max: { seq: true } }).then((result) => {
      this.lastSeq = result._max.seq ?? 0;
    });
    void this.run();
  }

  private async run(): Promise<void> {
    await this.ready;
    for await (const payload of this.notifications) {
      if (payload.lastSeq <= this.lastSeq) continue;
      for (;;) {
        const rows = await this.prisma.event.findMany({ where: { jobId: this.jobId, seq: { gt: this.lastSeq } }, orderBy: { seq: 'asc' }, take: PAGE });
        if (rows.length === 0) break;
        this.lastSeq = rows.at(-1)!.seq;
        for (const listener of this.listeners) listener(rows);
        if (rows.length < PAGE) break;
      }
    }
  }

  close(): void {
    this.notifications.close();
  }
}

/** The feeds of all jobs with live subscribers. */
export class EventFeeds {
  private readonly feeds = new Map<string, JobFeed>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly pubsub: PubSub,
  ) {}

  /** Number of jobs with a live feed. */
  get size(): number {
    return this.feeds.size;
  }

  /** Number of open event streams of a job. */
  listenerCount(jobId: string): number {
    return this.feeds.get(jobId)?.listeners.size ?? 0;
  }

  /**
   * Streams a job's events after `afterSeq` in order, each once: stored events
   * first, then new ones as they are stored. Closing the iterator (`return`)
   * takes effect at once, even while it waits for new events.
   */
  stream(jobId: string, afterSeq: number): AsyncIterableIterator<Event> {
    let feed = this.feeds.get(jobId);
    if (!feed) {
      feed = new JobFeed(this.prisma, this.pubsub, jobId);
      this.feeds.set(jobId, feed);
    }
    const jobFeed = feed;
    const queue: Event[] = [];
    let lastQueued = afterSeq;
    let replaying = true;
    let closed = false;
    let wake: (() => void) | null = null;

    const enqueue = (rows: Event[]) => {
      for (const row of rows) {
        if (row.seq <= lastQueued) continue;
        lastQueued = row.seq;
        queue.push(row);
      }
    };
    // Rows the feed reads while the replay runs wait here, then pass the same seq filter.
    const held: Event[][] = [];
    const listener: Listener = (rows) => {
      if (replaying) held.push(rows);
      else enqueue(rows);
      wake?.();
    };
    jobFeed.listeners.add(listener);

    const close = () => {
      if (closed) return;
      closed = true;
      jobFeed.listeners.delete(listener);
      if (jobFeed.listeners.size === 0 && this.feeds.get(jobId) === jobFeed) {
        jobFeed.close();
        this.feeds.delete(jobId);
      }
      wake?.();
    };

    const replayPage = async () => {
      await jobFeed.ready;
      const rows = await this.prisma.event.findMany({ where: { jobId, seq: { gt: lastQueued } }, orderBy: { seq: 'asc' }, take: PAGE });
      enqueue(rows);
      if (rows.length < PAGE) {
        replaying = false;
        for (const rows of held.splice(0)) enqueue(rows);
      }
    };

    const iterator: AsyncIterableIterator<Event> = {
      next: async () => {
        for (;;) {
          if (closed) return { value: undefined, done: true };
          if (queue.length > 0) return { value: queue.shift()!, done: false };
          if (replaying) {
            await replayPage();
            continue;
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = null;
        }
      },
      return: async () => {
        close();
        return { value: undefined, done: true };
      },
      throw: async (error?: unknown) => {
        close();
        throw error;
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }
}
