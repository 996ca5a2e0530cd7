import type { Event } from '../server/db/index.js';
import { builder } from './builder.js';
import { databaseId, globalId } from './ids.js';

builder.prismaObject('Event', {
  description: 'Something a job\'s pipeline reported: a state change, progress, a metric, a log line, a checkpoint, an artifact, a data report, a heartbeat, an error or a result.',
  fields: (t) => ({
    id: t.exposeID('id'),
    seq: t.exposeInt('seq', { description: 'Per-job sequence number: 1, 2, 3 ... without gaps.' }),
    jobId: t.id({ description: 'Global id of the job.', resolve: (event) => globalId('Job', event.jobId) }),
    runId: t.id({ nullable: true, description: 'Global id of the dataset run, as DatasetRun.id; null for job-level stages such as merge.', resolve: (event) => (event.runId ? globalId('DatasetRun', event.runId) : null) }),
    stage: t.exposeString('stage'),
    attempt: t.exposeInt('attempt'),
    type: t.exposeString('type'),
    level: t.exposeString('level', { nullable: true }),
    message: t.exposeString('message', { nullable: true }),
    data: t.expose('data', { type: 'JSON', description: 'The event body as the pipeline sent it (snake_case keys); non-finite numbers are null and named in non_finite.' }),
    ts: t.expose('ts', { type: 'DateTime' }),
  }),
});

builder.prismaObjectField('Job', 'events', (t) =>
  t.relatedConnection('events', {
    cursor: 'id',
    maxSize: 1000,
    description: 'Stored events in sequence order.',
    args: {
      afterSeq: t.arg.int({ description: 'Only events with a larger sequence number.' }),
      types: t.arg.stringList({ description: 'Only these event types, such as log or metric.' }),
    },
    query: ({ afterSeq, types }) => ({
      where: { ...(afterSeq != null ? { seq: { gt: afterSeq } } : {}), ...(types?.length ? { type: { in: types } } : {}) },
      orderBy: { seq: 'asc' },
    }),
  }),
);

builder.subscriptionField('jobEvents', (t) =>
  t.prismaField({
    type: 'Event',
    description:
      'Events of a job in sequence order. Replays stored events after `afterSeq`, then streams new ones; each event is sent once. To resume after a disconnect, pass the last seq received.',
    args: {
      jobId: t.arg.id({ required: true }),
      afterSeq: t.arg.int({ description: 'Last sequence number the client has; 0 or absent replays everything.' }),
    },
    subscribe: (_root, { jobId, afterSeq }, ctx) => ctx.eventFeeds.stream(databaseId(jobId, 'Job'), afterSeq ?? 0),
    resolve: (_query, event: Event) => event,
  }),
);
