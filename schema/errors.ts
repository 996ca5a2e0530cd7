import { ExecutorUnavailableError } from '../server/executors/types.js';
import type { FieldError } from '../server/jobs/input.js';
import { IdempotencyConflict, InvalidState, NotFound, ValidationFailed } from '../server/jobs/service.js';
import { builder } from './builder.js';
import { globalId } from './ids.js';

/** Every expected failure returned as data implements this interface. */
export const ErrorInterface = builder.interfaceRef<Error>('Error').implement({
  description: 'An expected failure, returned as data. `code` is stable; `message` is for people.',
  fields: (t) => ({
    message: t.exposeString('message'),
  }),
});

const FieldErrorType = builder.objectRef<FieldError>('FieldError').implement({
  description: 'One invalid input value.',
  fields: (t) => ({
    path: t.exposeString('path', { description: 'Dotted path of the input field, such as `training.learningRate` or `datasets[1].priority`.' }),
    message: t.exposeString('message'),
    value: t.exposeString('value', { description: 'The rejected value as JSON.' }),
    allowed: t.exposeString('allowed', { description: 'What the field accepts.' }),
  }),
});

builder.objectType(ValidationFailed, {
  name: 'ValidationError',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    code: t.string({ resolve: () => 'VALIDATION_FAILED' }),
    fieldErrors: t.field({ type: [FieldErrorType], resolve: (error) => error.fieldErrors }),
  }),
});

builder.objectType(IdempotencyConflict, {
  name: 'IdempotencyConflictError',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    code: t.string({ resolve: () => 'IDEMPOTENCY_CONFLICT' }),
    idempotencyKey: t.exposeString('idempotencyKey'),
    existingJobId: t.id({ description: 'Global id of the job launched earlier with this key.', resolve: (error) => globalId('Job', error.existingJobId) }),
  }),
});

builder.objectType(ExecutorUnavailableError, {
  name: 'ExecutorUnavailableError',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    code: t.string({ resolve: () => 'EXECUTOR_UNAVAILABLE' }),
    fix: t.exposeString('fix', { description: 'The command or setting that fixes it.' }),
  }),
});

builder.objectType(NotFound, {
  name: 'NotFoundError',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    code: t.string({ resolve: () => 'NOT_FOUND' }),
  }),
});

builder.objectType(InvalidState, {
  name: 'InvalidStateError',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    code: t.string({ resolve: () => 'INVALID_STATE' }),
    currentStatus: t.exposeString('currentStatus'),
  }),
});
