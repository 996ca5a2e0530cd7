/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  fragment RunItem on DatasetRun {\n    id\n    index\n    position\n    status\n    step\n    totalSteps\n    progressPercent\n    source\n    repo\n    file\n    path\n    description\n    attempt\n    error\n    report\n    finalMetrics\n  }\n": typeof types.RunItemFragmentDoc,
    "\n  fragment JobLive on Job {\n    id\n    name\n    status\n    phase\n    error\n    progressPercent\n    etaSeconds\n    elapsedSeconds\n    createdAt\n    modelName\n    executor\n    gpuType\n    gpuCount\n    totalDatasets\n    datasetsCompleted\n    lastSeq\n    logsUrl\n    currentDataset {\n      position\n      total\n      run {\n        id\n        step\n        totalSteps\n        status\n      }\n    }\n    latestMetrics {\n      step\n      trainLoss\n      evalLoss\n      learningRate\n      gpuUtilization\n      tokensPerSecond\n    }\n    runs {\n      ...RunItem\n    }\n    model {\n      id\n      name\n      version\n    }\n  }\n": typeof types.JobLiveFragmentDoc,
    "\n  fragment LogEvent on Event {\n    seq\n    ts\n    type\n    level\n    message\n    runId\n  }\n": typeof types.LogEventFragmentDoc,
    "\n  query JobView($id: ID!) {\n    job(id: $id) {\n      ...JobLive\n      events(types: [\"log\", \"error\", \"status\"], last: 200) {\n        edges {\n          node {\n            ...LogEvent\n          }\n        }\n      }\n    }\n  }\n": typeof types.JobViewDocument,
    "\n  query JobMetrics($id: ID!, $after: String) {\n    job(id: $id) {\n      id\n      metrics(first: 5000, after: $after) {\n        edges {\n          node {\n            runId\n            split\n            step\n            loss\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": typeof types.JobMetricsDocument,
    "\n  subscription JobUpdated($id: ID!) {\n    jobUpdated(id: $id) {\n      ...JobLive\n    }\n  }\n": typeof types.JobUpdatedDocument,
    "\n  subscription JobEvents($jobId: ID!, $afterSeq: Int) {\n    jobEvents(jobId: $jobId, afterSeq: $afterSeq) {\n      ...LogEvent\n      data\n    }\n  }\n": typeof types.JobEventsDocument,
    "\n  mutation CancelJob($id: ID!) {\n    cancelJob(id: $id) {\n      __typename\n      ... on CancelJobSuccess {\n        data {\n          ...JobLive\n        }\n      }\n      ... on Error {\n        message\n      }\n    }\n  }\n": typeof types.CancelJobDocument,
    "\n  mutation RetryDatasetRun($runId: ID!, $idempotencyKey: String) {\n    retryDatasetRun(runId: $runId, idempotencyKey: $idempotencyKey) {\n      __typename\n      ... on RetryDatasetRunSuccess {\n        data {\n          id\n        }\n      }\n      ... on Error {\n        message\n      }\n    }\n  }\n": typeof types.RetryDatasetRunDocument,
    "\n  fragment JobRow on Job {\n    id\n    name\n    status\n    phase\n    progressPercent\n    createdAt\n    modelName\n    executor\n    totalDatasets\n    datasetsCompleted\n    currentDataset {\n      position\n      total\n    }\n  }\n": typeof types.JobRowFragmentDoc,
    "\n  query Jobs($filter: JobFilter, $first: Int) {\n    jobs(filter: $filter, first: $first) {\n      totalCount\n      edges {\n        node {\n          ...JobRow\n        }\n      }\n    }\n  }\n": typeof types.JobsDocument,
    "\n  subscription JobsChanged {\n    jobsChanged {\n      ...JobRow\n    }\n  }\n": typeof types.JobsChangedDocument,
    "\n  query GpuTypes {\n    gpuTypes {\n      type\n      pricePerHourUsd\n    }\n  }\n": typeof types.GpuTypesDocument,
    "\n  query EstimateJob($input: LaunchJobInput!) {\n    estimateJob(input: $input) {\n      __typename\n      ... on EstimateJobSuccess {\n        data {\n          ...EstimateView\n        }\n      }\n      ... on ValidationError {\n        message\n        fieldErrors {\n          path\n          message\n        }\n      }\n      ... on ExecutorUnavailableError {\n        message\n        fix\n      }\n    }\n  }\n": typeof types.EstimateJobDocument,
    "\n  fragment EstimateView on JobEstimate {\n    durationSeconds\n    durationText\n    costUsd\n    gpuType\n    gpuCount\n    pricePerGpuHourUsd\n    tokensPerSecond\n    assumptions\n    datasets {\n      index\n      description\n      steps\n      durationText\n      costUsd\n    }\n  }\n": typeof types.EstimateViewFragmentDoc,
    "\n  mutation LaunchJob($input: LaunchJobInput!) {\n    launchJob(input: $input) {\n      __typename\n      ... on LaunchJobSuccess {\n        data {\n          created\n          job {\n            id\n          }\n        }\n      }\n      ... on ValidationError {\n        message\n        fieldErrors {\n          path\n          message\n          value\n          allowed\n        }\n      }\n      ... on IdempotencyConflictError {\n        message\n        existingJobId\n      }\n      ... on ExecutorUnavailableError {\n        message\n        fix\n      }\n    }\n  }\n": typeof types.LaunchJobDocument,
    "\n  fragment ModelCard on ModelVersion {\n    id\n    name\n    version\n    status\n    baseModel\n    createdAt\n    gateReason\n    deploymentStatus\n    lineage\n    metrics {\n      finalTrainLoss\n      finalEvalLoss\n      perplexity\n    }\n    job {\n      id\n      name\n    }\n    deployments {\n      id\n      status\n      endpointUrl\n      error\n      gpuType\n      executor\n      createdAt\n    }\n  }\n": typeof types.ModelCardFragmentDoc,
    "\n  query Models($first: Int) {\n    models(first: $first) {\n      totalCount\n      edges {\n        node {\n          ...ModelCard\n        }\n      }\n    }\n  }\n": typeof types.ModelsDocument,
    "\n  subscription ModelUpdated($id: ID!) {\n    modelUpdated(id: $id) {\n      ...ModelCard\n    }\n  }\n": typeof types.ModelUpdatedDocument,
    "\n  mutation DeployModel($modelId: ID!) {\n    deployModel(modelId: $modelId) {\n      __typename\n      ... on DeployModelSuccess {\n        data {\n          id\n          status\n        }\n      }\n      ... on Error {\n        message\n      }\n    }\n  }\n": typeof types.DeployModelDocument,
    "\n  mutation UndeployModel($modelId: ID!) {\n    undeployModel(modelId: $modelId) {\n      __typename\n      ... on UndeployModelSuccess {\n        data {\n          ...ModelCard\n        }\n      }\n      ... on Error {\n        message\n      }\n    }\n  }\n": typeof types.UndeployModelDocument,
    "\n  mutation RollbackDeployment($modelId: ID!) {\n    rollbackDeployment(modelId: $modelId) {\n      __typename\n      ... on RollbackDeploymentSuccess {\n        data {\n          id\n          status\n        }\n      }\n      ... on Error {\n        message\n      }\n    }\n  }\n": typeof types.RollbackDeploymentDocument,
    "\n  mutation DeleteModel($modelId: ID!) {\n    deleteModel(modelId: $modelId) {\n      __typename\n      ... on DeleteModelSuccess {\n        data\n      }\n      ... on Error {\n        message\n      }\n    }\n  }\n": typeof types.DeleteModelDocument,
    "\n  mutation TestModel($modelId: ID!, $prompt: String!, $compareWithBase: Boolean) {\n    testModel(modelId: $modelId, prompt: $prompt, compareWithBase: $compareWithBase) {\n      __typename\n      ... on TestModelSuccess {\n        data {\n          model {\n            answer\n            reasoning\n            latencyMs\n          }\n          base {\n            answer\n            reasoning\n            latencyMs\n          }\n        }\n      }\n      ... on Error {\n        message\n      }\n    }\n  }\n": typeof types.TestModelDocument,
};
const documents: Documents = {
    "\n  fragment RunItem on DatasetRun {\n    id\n    index\n    position\n    status\n    step\n    totalSteps\n    progressPercent\n    source\n    repo\n    file\n    path\n    description\n    attempt\n    error\n    report\n    finalMetrics\n  }\n": types.RunItemFragmentDoc,
    "\n  fragment JobLive on Job {\n    id\n    name\n    status\n    phase\n    error\n    progressPercent\n    etaSeconds\n    elapsedSeconds\n    createdAt\n    modelName\n    executor\n    gpuType\n    gpuCount\n    totalDatasets\n    datasetsCompleted\n    lastSeq\n    logsUrl\n    currentDataset {\n      position\n      total\n      run {\n        id\n        step\n        totalSteps\n        status\n      }\n    }\n    latestMetrics {\n      step\n      trainLoss\n      evalLoss\n      learningRate\n      gpuUtilization\n      tokensPerSecond\n    }\n    runs {\n      ...RunItem\n    }\n    model {\n      id\n      name\n      version\n    }\n  }\n": types.JobLiveFragmentDoc,
    "\n  fragment LogEvent on Event {\n    seq\n    ts\n    type\n    level\n    message\n    runId\n  }\n": types.LogEventFragmentDoc,
    "\n  query JobView($id: ID!) {\n    job(id: $id) {\n      ...JobLive\n      events(types: [\"log\", \"error\", \"status\"], last: 200) {\n        edges {\n          node {\n            ...LogEvent\n          }\n        }\n      }\n    }\n  }\n": types.JobViewDocument,
    "\n  query JobMetrics($id: ID!, $after: String) {\n    job(id: $id) {\n      id\n      metrics(first: 5000, after: $after) {\n        edges {\n          node {\n            runId\n            split\n            step\n            loss\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": types.JobMetricsDocument,
    "\n  subscription JobUpdated($id: ID!) {\n    jobUpdated(id: $id) {\n      ...JobLive\n    }\n  }\n": types.JobUpdatedDocument,
    "\n  subscription JobEvents($jobId: ID!, $afterSeq: Int) {\n    jobEvents(jobId: $jobId, afterSeq: $afterSeq) {\n      ...LogEvent\n      data\n    }\n  }\n": types.JobEventsDocument,
    "\n  mutation CancelJob($id: ID!) {\n    cancelJob(id: $id) {\n      __typename\n      ... on CancelJobSuccess {\n        data {\n          ...JobLive\n        }\n      }\n      ... on Error {\n        message\n      }\n    }\n  }\n": types.CancelJobDocument,
    "\n  mutation RetryDatasetRun($runId: ID!, $idempotencyKey: String) {\n    retryDatasetRun(runId: $runId, idempotencyKey: $idempotencyKey) {\n      __typename\n      ... on RetryDatasetRunSuccess {\n        data {\n          id\n        }\n      }\n      ... on Error {\n        message\n      }\n    }\n  }\n": types.RetryDatasetRunDocument,
    "\n  fragment JobRow on Job {\n    id\n    name\n    status\n    phase\n    progressPercent\n    createdAt\n    modelName\n    executor\n    totalDatasets\n    datasetsCompleted\n    currentDataset {\n      position\n      total\n    }\n  }\n": types.JobRowFragmentDoc,
    "\n  query Jobs($filter: JobFilter, $first: Int) {\n    jobs(filter: $filter, first: $first) {\n      totalCount\n      edges {\n        node {\n          ...JobRow\n        }\n      }\n    }\n  }\n": types.JobsDocument,
    "\n  subscription JobsChanged {\n    jobsChanged {\n      ...JobRow\n    }\n  }\n": types.JobsChangedDocument,
    "\n  query GpuTypes {\n    gpuTypes {\n      type\n      pricePerHourUsd\n    }\n  }\n": types.GpuTypesDocument,
    "\n  query EstimateJob($input: LaunchJobInput!) {\n    estimateJob(input: $input) {\n      __typename\n      ... on EstimateJobSuccess {\n        data {\n          ...EstimateView\n        }\n      }\n      ... on ValidationError {\n        message\n        fieldErrors {\n          path\n          message\n        }\n      }\n      ... on ExecutorUnavailableError {\n        message\n        fix\n      }\n    }\n  }\n": types.EstimateJobDocument,
    "\n  fragment EstimateView on JobEstimate {\n    durationSeconds\n    durationText\n    costUsd\n    gpuType\n    gpuCount\n    pricePerGpuHourUsd\n    tokensPerSecond\n    assumptions\n    datasets {\n      index\n      description\n      steps\n      durationText\n      costUsd\n    }\n  }\n": types.EstimateViewFragmentDoc,
    "\n  mutation LaunchJob($input: LaunchJobInput!) {\n    launchJob(input: $input) {\n      __typename\n      ... on LaunchJobSuccess {\n        data {\n          created\n          job {\n            id\n          }\n        }\n      }\n      ... on ValidationError {\n        message\n        fieldErrors {\n          path\n          message\n          value\n          allowed\n        }\n      }\n      ... on IdempotencyConflictError {\n        message\n        existingJobId\n      }\n      ... on ExecutorUnavailableError {\n        message\n        fix\n      }\n    }\n  }\n": types.LaunchJobDocument,
    "\n  fragment ModelCard on ModelVersion {\n    id\n    name\n    version\n    status\n    baseModel\n    createdAt\n    gateReason\n    deploymentStatus\n    lineage\n    metrics {\n      finalTrainLoss\n      finalEvalLoss\n      perplexity\n    }\n    job {\n      id\n      name\n    }\n    deployments {\n      id\n      status\n      endpointUrl\n      error\n      gpuType\n      executor\n      createdAt\n    }\n  }\n": types.ModelCardFragmentDoc,
    "\n  query Models($first: Int) {\n    models(first: $first) {\n      totalCount\n      edges {\n        node {\n          ...ModelCard\n        }\n      }\n    }\n  }\n": types.ModelsDocument,
    "\n  subscription ModelUpdated($id: ID!) {\n    modelUpdated(id: $id) {\n      ...ModelCard\n    }\n  }\n": types.ModelUpdatedDocument,
    "\n  mutation DeployModel($modelId: ID!) {\n    deployModel(modelId: $modelId) {\n      __typename\n      ... on DeployModelSuccess {\n        data {\n          id\n          status\n        }\n      }\n      ... on Error {\n        message\n      }\n    }\n  }\n": types.DeployModelDocument,
    "\n  mutation UndeployModel($modelId: ID!) {\n    undeployModel(modelId: $modelId) {\n      __typename\n      ... on UndeployModelSuccess {\n        data {\n          ...ModelCard\n        }\n      }\n      ... on Error {\n        message\n      }\n    }\n  }\n": types.UndeployModelDocument,
    "\n  mutation RollbackDeployment($modelId: ID!) {\n    rollbackDeployment(modelId: $modelId) {\n      __typename\n      ... on RollbackDeploymentSuccess {\n        data {\n          id\n          status\n        }\n      }\n      ... on Error {\n        message\n      }\n    }\n  }\n": types.RollbackDeploymentDocument,
    "\n  mutation DeleteModel($modelId: ID!) {\n    deleteModel(modelId: $modelId) {\n      __typename\n      ... on DeleteModelSuccess {\n        data\n      }\n      ... on Error {\n        message\n      }\n    }\n  }\n": types.DeleteModelDocument,
    "\n  mutation TestModel($modelId: ID!, $prompt: String!, $compareWithBase: Boolean) {\n    testModel(modelId: $modelId, prompt: $prompt, compareWithBase: $compareWithBase) {\n      __typename\n      ... on TestModelSuccess {\n        data {\n          model {\n            answer\n            reasoning\n            latencyMs\n          }\n          base {\n            answer\n            reasoning\n            latencyMs\n          }\n        }\n      }\n      ... on Error {\n        message\n      }\n    }\n  }\n": types.TestModelDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment RunItem on DatasetRun {\n    id\n    index\n    position\n    status\n    step\n    totalSteps\n    progressPercent\n    source\n    repo\n    file\n    path\n    description\n    attempt\n    error\n    report\n    finalMetrics\n  }\n"): (typeof documents)["\n  fragment RunItem on DatasetRun {\n    id\n    index\n    position\n    status\n    step\n    totalSteps\n    progressPercent\n    source\n    repo\n    file\n    path\n    description\n    attempt\n    error\n    report\n    finalMetrics\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment JobLive on Job {\n    id\n    name\n    status\n    phase\n    error\n    progressPercent\n    etaSeconds\n    elapsedSeconds\n    createdAt\n    modelName\n    executor\n    gpuType\n    gpuCount\n    totalDatasets\n    datasetsCompleted\n    lastSeq\n    logsUrl\n    currentDataset {\n      position\n      total\n      run {\n        id\n        step\n        totalSteps\n        status\n      }\n    }\n    latestMetrics {\n      step\n      trainLoss\n      evalLoss\n      learningRate\n      gpuUtilization\n      tokensPerSecond\n    }\n    runs {\n      ...RunItem\n    }\n    model {\n      id\n      name\n      version\n    }\n  }\n"): (typeof documents)["\n  fragment JobLive on Job {\n    id\n    name\n    status\n    phase\n    error\n    progressPercent\n    etaSeconds\n    elapsedSeconds\n    createdAt\n    modelName\n    executor\n    gpuType\n    gpuCount\n    totalDatasets\n    datasetsCompleted\n    lastSeq\n    logsUrl\n    currentDataset {\n      position\n      total\n      run {\n        id\n        step\n        totalSteps\n        status\n      }\n    }\n    latestMetrics {\n      step\n      trainLoss\n      evalLoss\n      learningRate\n      gpuUtilization\n      tokensPerSecond\n    }\n    runs {\n      ...RunItem\n    }\n    model {\n      id\n      name\n      version\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment LogEvent on Event {\n    seq\n    ts\n    type\n    level\n    message\n    runId\n  }\n"): (typeof documents)["\n  fragment LogEvent on Event {\n    seq\n    ts\n    type\n    level\n    message\n    runId\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query JobView($id: ID!) {\n    job(id: $id) {\n      ...JobLive\n      events(types: [\"log\", \"error\", \"status\"], last: 200) {\n        edges {\n          node {\n            ...LogEvent\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query JobView($id: ID!) {\n    job(id: $id) {\n      ...JobLive\n      events(types: [\"log\", \"error\", \"status\"], last: 200) {\n        edges {\n          node {\n            ...LogEvent\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query JobMetrics($id: ID!, $after: String) {\n    job(id: $id) {\n      id\n      metrics(first: 5000, after: $after) {\n        edges {\n          node {\n            runId\n            split\n            step\n            loss\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query JobMetrics($id: ID!, $after: String) {\n    job(id: $id) {\n      id\n      metrics(first: 5000, after: $after) {\n        edges {\n          node {\n            runId\n            split\n            step\n            loss\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription JobUpdated($id: ID!) {\n    jobUpdated(id: $id) {\n      ...JobLive\n    }\n  }\n"): (typeof documents)["\n  subscription JobUpdated($id: ID!) {\n    jobUpdated(id: $id) {\n      ...JobLive\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription JobEvents($jobId: ID!, $afterSeq: Int) {\n    jobEvents(jobId: $jobId, afterSeq: $afterSeq) {\n      ...LogEvent\n      data\n    }\n  }\n"): (typeof documents)["\n  subscription JobEvents($jobId: ID!, $afterSeq: Int) {\n    jobEvents(jobId: $jobId, afterSeq: $afterSeq) {\n      ...LogEvent\n      data\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelJob($id: ID!) {\n    cancelJob(id: $id) {\n      __typename\n      ... on CancelJobSuccess {\n        data {\n          ...JobLive\n        }\n      }\n      ... on Error {\n        message\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation CancelJob($id: ID!) {\n    cancelJob(id: $id) {\n      __typename\n      ... on CancelJobSuccess {\n        data {\n          ...JobLive\n        }\n      }\n      ... on Error {\n        message\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RetryDatasetRun($runId: ID!, $idempotencyKey: String) {\n    retryDatasetRun(runId: $runId, idempotencyKey: $idempotencyKey) {\n      __typename\n      ... on RetryDatasetRunSuccess {\n        data {\n          id\n        }\n      }\n      ... on Error {\n        message\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation RetryDatasetRun($runId: ID!, $idempotencyKey: String) {\n    retryDatasetRun(runId: $runId, idempotencyKey: $idempotencyKey) {\n      __typename\n      ... on RetryDatasetRunSuccess {\n        data {\n          id\n        }\n      }\n      ... on Error {\n        message\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment JobRow on Job {\n    id\n    name\n    status\n    phase\n    progressPercent\n    createdAt\n    modelName\n    executor\n    totalDatasets\n    datasetsCompleted\n    currentDataset {\n      position\n      total\n    }\n  }\n"): (typeof documents)["\n  fragment JobRow on Job {\n    id\n    name\n    status\n    phase\n    progressPercent\n    createdAt\n    modelName\n    executor\n    totalDatasets\n    datasetsCompleted\n    currentDataset {\n      position\n      total\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Jobs($filter: JobFilter, $first: Int) {\n    jobs(filter: $filter, first: $first) {\n      totalCount\n      edges {\n        node {\n          ...JobRow\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Jobs($filter: JobFilter, $first: Int) {\n    jobs(filter: $filter, first: $first) {\n      totalCount\n      edges {\n        node {\n          ...JobRow\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription JobsChanged {\n    jobsChanged {\n      ...JobRow\n    }\n  }\n"): (typeof documents)["\n  subscription JobsChanged {\n    jobsChanged {\n      ...JobRow\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query GpuTypes {\n    gpuTypes {\n      type\n      pricePerHourUsd\n    }\n  }\n"): (typeof documents)["\n  query GpuTypes {\n    gpuTypes {\n      type\n      pricePerHourUsd\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query EstimateJob($input: LaunchJobInput!) {\n    estimateJob(input: $input) {\n      __typename\n      ... on EstimateJobSuccess {\n        data {\n          ...EstimateView\n        }\n      }\n      ... on ValidationError {\n        message\n        fieldErrors {\n          path\n          message\n        }\n      }\n      ... on ExecutorUnavailableError {\n        message\n        fix\n      }\n    }\n  }\n"): (typeof documents)["\n  query EstimateJob($input: LaunchJobInput!) {\n    estimateJob(input: $input) {\n      __typename\n      ... on EstimateJobSuccess {\n        data {\n          ...EstimateView\n        }\n      }\n      ... on ValidationError {\n        message\n        fieldErrors {\n          path\n          message\n        }\n      }\n      ... on ExecutorUnavailableError {\n        message\n        fix\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment EstimateView on JobEstimate {\n    durationSeconds\n    durationText\n    costUsd\n    gpuType\n    gpuCount\n    pricePerGpuHourUsd\n    tokensPerSecond\n    assumptions\n    datasets {\n      index\n      description\n      steps\n      durationText\n      costUsd\n    }\n  }\n"): (typeof documents)["\n  fragment EstimateView on JobEstimate {\n    durationSeconds\n    durationText\n    costUsd\n    gpuType\n    gpuCount\n    pricePerGpuHourUsd\n    tokensPerSecond\n    assumptions\n    datasets {\n      index\n      description\n      steps\n      durationText\n      costUsd\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation LaunchJob($input: LaunchJobInput!) {\n    launchJob(input: $input) {\n      __typename\n      ... on LaunchJobSuccess {\n        data {\n          created\n          job {\n            id\n          }\n        }\n      }\n      ... on ValidationError {\n        message\n        fieldErrors {\n          path\n          message\n          value\n          allowed\n        }\n      }\n      ... on IdempotencyConflictError {\n        message\n        existingJobId\n      }\n      ... on ExecutorUnavailableError {\n        message\n        fix\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation LaunchJob($input: LaunchJobInput!) {\n    launchJob(input: $input) {\n      __typename\n      ... on LaunchJobSuccess {\n        data {\n          created\n          job {\n            id\n          }\n        }\n      }\n      ... on ValidationError {\n        message\n        fieldErrors {\n          path\n          message\n          value\n          allowed\n        }\n      }\n      ... on IdempotencyConflictError {\n        message\n        existingJobId\n      }\n      ... on ExecutorUnavailableError {\n        message\n        fix\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ModelCard on ModelVersion {\n    id\n    name\n    version\n    status\n    baseModel\n    createdAt\n    gateReason\n    deploymentStatus\n    lineage\n    metrics {\n      finalTrainLoss\n      finalEvalLoss\n      perplexity\n    }\n    job {\n      id\n      name\n    }\n    deployments {\n      id\n      status\n      endpointUrl\n      error\n      gpuType\n      executor\n      createdAt\n    }\n  }\n"): (typeof documents)["\n  fragment ModelCard on ModelVersion {\n    id\n    name\n    version\n    status\n    baseModel\n    createdAt\n    gateReason\n    deploymentStatus\n    lineage\n    metrics {\n      finalTrainLoss\n      finalEvalLoss\n      perplexity\n    }\n    job {\n      id\n      name\n    }\n    deployments {\n      id\n      status\n      endpointUrl\n      error\n      gpuType\n      executor\n      createdAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Models($first: Int) {\n    models(first: $first) {\n      totalCount\n      edges {\n        node {\n          ...ModelCard\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Models($first: Int) {\n    models(first: $first) {\n      totalCount\n      edges {\n        node {\n          ...ModelCard\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ModelUpdated($id: ID!) {\n    modelUpdated(id: $id) {\n      ...ModelCard\n    }\n  }\n"): (typeof documents)["\n  subscription ModelUpdated($id: ID!) {\n    modelUpdated(id: $id) {\n      ...ModelCard\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeployModel($modelId: ID!) {\n    deployModel(modelId: $modelId) {\n      __typename\n      ... on DeployModelSuccess {\n        data {\n          id\n          status\n        }\n      }\n      ... on Error {\n        message\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation DeployModel($modelId: ID!) {\n    deployModel(modelId: $modelId) {\n      __typename\n      ... on DeployModelSuccess {\n        data {\n          id\n          status\n        }\n      }\n      ... on Error {\n        message\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UndeployModel($modelId: ID!) {\n    undeployModel(modelId: $modelId) {\n      __typename\n      ... on UndeployModelSuccess {\n        data {\n          ...ModelCard\n        }\n      }\n      ... on Error {\n        message\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation UndeployModel($modelId: ID!) {\n    undeployModel(modelId: $modelId) {\n      __typename\n      ... on UndeployModelSuccess {\n        data {\n          ...ModelCard\n        }\n      }\n      ... on Error {\n        message\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RollbackDeployment($modelId: ID!) {\n    rollbackDeployment(modelId: $modelId) {\n      __typename\n      ... on RollbackDeploymentSuccess {\n        data {\n          id\n          status\n        }\n      }\n      ... on Error {\n        message\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation RollbackDeployment($modelId: ID!) {\n    rollbackDeployment(modelId: $modelId) {\n      __typename\n      ... on RollbackDeploymentSuccess {\n        data {\n          id\n          status\n        }\n      }\n      ... on Error {\n        message\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteModel($modelId: ID!) {\n    deleteModel(modelId: $modelId) {\n      __typename\n      ... on DeleteModelSuccess {\n        data\n      }\n      ... on Error {\n        message\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation DeleteModel($modelId: ID!) {\n    deleteModel(modelId: $modelId) {\n      __typename\n      ... on DeleteModelSuccess {\n        data\n      }\n      ... on Error {\n        message\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation TestModel($modelId: ID!, $prompt: String!, $compareWithBase: Boolean) {\n    testModel(modelId: $modelId, prompt: $prompt, compareWithBase: $compareWithBase) {\n      __typename\n      ... on TestModelSuccess {\n        data {\n          model {\n            answer\n            reasoning\n            latencyMs\n          }\n          base {\n            answer\n            reasoning\n            latencyMs\n          }\n        }\n      }\n      ... on Error {\n        message\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation TestModel($modelId: ID!, $prompt: String!, $compareWithBase: Boolean) {\n    testModel(modelId: $modelId, prompt: $prompt, compareWithBase: $compareWithBase) {\n      __typename\n      ... on TestModelSuccess {\n        data {\n          model {\n            answer\n            reasoning\n            latencyMs\n          }\n          base {\n            answer\n            reasoning\n            latencyMs\n          }\n        }\n      }\n      ... on Error {\n        message\n      }\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;