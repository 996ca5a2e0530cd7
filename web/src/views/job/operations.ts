import { graphql } from '../../gql/index.js';

export const RunItemFragment = graphql(`
  fragment RunItem on DatasetRun {
    id
    index
    position
    status
    step
    totalSteps
    progressPercent
    source
    repo
    file
    path
    description
    attempt
    error
    report
    finalMetrics
  }
`);

export const JobLiveFragment = graphql(`
  fragment JobLive on Job {
    id
    name
    status
    phase
    error
    progressPercent
    etaSeconds
    elapsedSeconds
    createdAt
    modelName
    executor
    gpuType
    gpuCount
    totalDatasets
    datasetsCompleted
    lastSeq
    logsUrl
    currentDataset {
      position
      total
      run {
        id
        step
        totalSteps
        status
      }
    }
    latestMetrics {
      step
      trainLoss
      evalLoss
      learningRate
      gpuUtilization
      tokensPerSecond
    }
    runs {
      ...RunItem
    }
    model {
      id
      name
      version
    }
  }
`);

export const LogEventFragment = graphql(`
  fragment LogEvent on Event {
    seq
    ts
    type
    level
    message
    runId
  }
`);

export const JobViewQuery = graphql(`
  query JobView($id: ID!) {
    job(id: $id) {
      ...JobLive
      events(types: ["log", "error", "status"], last: 200) {
        edges {
          node {
            ...LogEvent
          }
        }
      }
    }
  }
`);

export const JobMetricsQuery = graphql(`
  query JobMetrics($id: ID!, $after: String) {
    job(id: $id) {
      id
      metrics(first: 5000, after: $after) {
        edges {
          node {
            runId
            split
            step
            loss
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`);

export const JobUpdatedSubscription = graphql(`
  subscription JobUpdated($id: ID!) {
    jobUpdated(id: $id) {
      ...JobLive
    }
  }
`);

export const JobEventsSubscription = graphql(`
  subscription JobEvents($jobId: ID!, $afterSeq: Int) {
    jobEvents(jobId: $jobId, afterSeq: $afterSeq) {
      ...LogEvent
      data
    }
  }
`);

export const CancelJobMutation = graphql(`
  mutation CancelJob($id: ID!) {
    cancelJob(id: $id) {
      __typename
      ... on CancelJobSuccess {
        data {
          ...JobLive
        }
      }
      ... on Error {
        message
      }
    }
  }
`);

export const RetryDatasetRunMutation = graphql(`
  mutation RetryDatasetRun($runId: ID!, $idempotencyKey: String) {
    retryDatasetRun(runId: $runId, idempotencyKey: $idempotencyKey) {
      __typename
      ... on RetryDatasetRunSuccess {
        data {
          id
        }
      }
      ... on Error {
        message
      }
    }
  }
`);
