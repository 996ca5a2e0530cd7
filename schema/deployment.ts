import type { Completion } from '../server/deployments/runtime.js';
import type { TestResult } from '../server/deployments/service.js';
import { InvalidState, NotFound, ValidationFailed } from '../server/jobs/service.js';
import { builder } from './builder.js';
import { ReasoningEffortEnum } from './enums.js';
import { databaseId, globalId, nonEmptyQuery } from './ids.js';

const EndpointConfigInput = builder.inputType('EndpointConfigInput', {
  fields: (t) => ({
    gpuType: t.string({ description: 'GPU for the vLLM server on Modal; default H100. The local runtime uses this machine.' }),
    maxConcurrentRequests: t.int({ description: '1-256; default 10.' }),
    autoScale: t.boolean({ description: 'Scale containers with load on Modal; default true.' }),
    idleTimeoutSeconds: t.int({ description: 'Seconds without requests before Modal scales to zero, 60-86400; default 300.' }),
  }),
});

const CompletionType = builder.objectRef<Completion>('Completion').implement({
  description: 'One answer, split into Harmony channels.',
  fields: (t) => ({
    answer: t.exposeString('answer', { description: 'The final channel.' }),
    reasoning: t.exposeString('reasoning', { nullable: true, description: 'The analysis channel; null when the completion had none.' }),
    latencyMs: t.exposeInt('latencyMs'),
    promptTokens: t.exposeInt('promptTokens', { nullable: true }),
    completionTokens: t.exposeInt('completionTokens', { nullable: true }),
  }),
});

const TestResultType = builder.objectRef<TestResult>('ModelTestResult').implement({
  fields: (t) => ({
    prompt: t.exposeString('prompt'),
    model: t.field({ type: CompletionType, resolve: (result) => result.model }),
    base: t.field({ type: CompletionType, nullable: true, description: 'The base model\'s answer, when compareWithBase was set.', resolve: (result) => result.base }),
  }),
});

builder.mutationFields((t) => ({
  deployModel: t.prismaField({
    type: 'Deployment',
    description: 'Deploys a verified model version behind an OpenAI-compatible endpoint. Returns the active deployment if there is one.',
    errors: { types: [NotFound, InvalidState, ValidationFailed] },
    args: { modelId: t.arg.id({ required: true }), endpointConfig: t.arg({ type: EndpointConfigInput }) },
    resolve: async (query, _root, { modelId, endpointConfig }, ctx) => {
      const deployment = await ctx.deployments.deploy(databaseId(modelId, 'ModelVersion'), endpointConfig ?? {});
      return ctx.prisma.deployment.findUniqueOrThrow({ ...nonEmptyQuery(query), where: { id: deployment.id } });
    },
  }),
  undeployModel: t.prismaField({
    type: 'ModelVersion',
    description: 'Stops every active deployment of a model version. Harmless when none is active.',
    errors: { types: [NotFound] },
    args: { modelId: t.arg.id({ required: true }) },
    resolve: async (query, _root, { modelId }, ctx) => {
      const model = await ctx.deployments.undeploy(databaseId(modelId, 'ModelVersion'));
      return ctx.prisma.modelVersion.findUniqueOrThrow({ ...nonEmptyQuery(query), where: { id: model.id } });
    },
  }),
  rollbackDeployment: t.prismaField({
    type: 'Deployment',
    description: 'Deploys the previous deployed version of the same model name and stops this one.',
    errors: { types: [NotFound, InvalidState, ValidationFailed] },
    args: { modelId: t.arg.id({ required: true, description: 'The version deployed now.' }) },
    resolve: async (query, _root, { modelId }, ctx) => {
      const deployment = await ctx.deployments.rollback(databaseId(modelId, 'ModelVersion'));
      return ctx.prisma.deployment.findUniqueOrThrow({ ...nonEmptyQuery(query), where: { id: deployment.id } });
    },
  }),
  deleteModel: t.field({
    type: 'ID',
    description: 'Deletes a model version and its merged weights; rejected while it is deployed. Returns the deleted id.',
    errors: { types: [NotFound, InvalidState] },
    args: { modelId: t.arg.id({ required: true }) },
    resolve: async (_root, { modelId }, ctx) => globalId('ModelVersion', await ctx.deployments.delete(databaseId(modelId, 'ModelVersion'))),
  }),
  testModel: t.field({
    type: TestResultType,
    description: 'Sends one prompt to the model\'s READY deployment, and to the base model when compareWithBase is set.',
    errors: { types: [NotFound, InvalidState, ValidationFailed] },
    args: {
      modelId: t.arg.id({ required: true }),
      prompt: t.arg.string({ required: true }),
      reasoningEffort: t.arg({ type: ReasoningEffortEnum, defaultValue: 'low' }),
      compareWithBase: t.arg.boolean({ defaultValue: false }),
    },
    resolve: (_root, args, ctx) => ctx.deployments.test(databaseId(args.modelId, 'ModelVersion'), args.prompt, args.reasoningEffort ?? 'low', args.compareWithBase ?? false),
  }),
}));

builder.subscriptionField('modelUpdated', (t) =>
  t.prismaField({
    type: 'ModelVersion',
    description: 'A model version, each time its verification or a deployment changes.',
    args: { id: t.arg.id({ required: true }) },
    subscribe: (_root, { id }, ctx) => {
      const modelId = databaseId(id, 'ModelVersion');
      const live = ctx.pubsub.subscribe('model:updated', (payload) => payload.modelId === modelId);
      return (async function* () {
        try {
          yield modelId;
          for await (const payload of live) yield payload.modelId;
        } finally {
          live.close();
        }
      })();
    },
    resolve: (query, modelId: string, _args, ctx) => ctx.prisma.modelVersion.findUniqueOrThrow({ ...nonEmptyQuery(query), where: { id: modelId } }),
  }),
);
