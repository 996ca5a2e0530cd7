import { graphql } from '../../gql/index.js';

export const GpuTypesQuery = graphql(`
  query GpuTypes {
    gpuTypes {
      type
      pricePerHourUsd
    }
  }
`);

export const EstimateJobQuery = graphql(`
  query EstimateJob($input: LaunchJobInput!) {
    estimateJob(input: $input) {
      __typename
      ... on EstimateJobSuccess {
        data {
          ...EstimateView
        }
      }
      ... on ValidationError {
        message
        fieldErrors {
          path
          message
        }
      }
      ... on ExecutorUnavailableError {
        message
        fix
      }
    }
  }
`);

export const EstimateViewFragment = graphql(`
  fragment EstimateView on JobEstimate {
    durationSeconds
    durationText
    costUsd
    gpuType
    gpuCount
    pricePerGpuHourUsd
    tokensPerSecond
    assumptions
    datasets {
      index
      description
      steps
      durationText
      costUsd
    }
  }
`);

export const LaunchJobMutation = graphql(`
  mutation LaunchJob($input: LaunchJobInput!) {
    launchJob(input: $input) {
      __typename
      ... on LaunchJobSuccess {
        data {
          created
          job {
            id
          }
        }
      }
      ... on ValidationError {
        message
        fieldErrors {
          path
          message
          value
          allowed
        }
      }
      ... on IdempotencyConflictError {
        message
        existingJobId
      }
      ... on ExecutorUnavailableError {
        message
        fix
      }
    }
  }
`);
