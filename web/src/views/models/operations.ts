import { graphql } from '../../gql/index.js';

export const ModelCardFragment = graphql(`
  fragment ModelCard on ModelVersion {
    id
    name
    version
    status
    baseModel
    createdAt
    gateReason
    deploymentStatus
    lineage
    metrics {
      finalTrainLoss
      finalEvalLoss
      perplexity
    }
    job {
      id
      name
    }
    deployments {
      id
      status
      endpointUrl
      error
      gpuType
      executor
      createdAt
    }
  }
`);

export const ModelsQuery = graphql(`
  query Models($first: Int) {
    models(first: $first) {
      totalCount
      edges {
        node {
          ...ModelCard
        }
      }
    }
  }
`);

export const ModelUpdatedSubscription = graphql(`
  subscription ModelUpdated($id: ID!) {
    modelUpdated(id: $id) {
      ...ModelCard
    }
  }
`);

export const DeployModelMutation = graphql(`
  mutation DeployModel($modelId: ID!) {
    deployModel(modelId: $modelId) {
      __typename
      ... on DeployModelSuccess {
        data {
          id
          status
        }
      }
      ... on Error {
        message
      }
    }
  }
`);

export const UndeployModelMutation = graphql(`
  mutation UndeployModel($modelId: ID!) {
    undeployModel(modelId: $modelId) {
      __typename
      ... on UndeployModelSuccess {
        data {
          ...ModelCard
        }
      }
      ... on Error {
        message
      }
    }
  }
`);

export const RollbackDeploymentMutation = graphql(`
  mutation RollbackDeployment($modelId: ID!) {
    rollbackDeployment(modelId: $modelId) {
      __typename
      ... on RollbackDeploymentSuccess {
        data {
          id
          status
        }
      }
      ... on Error {
        message
      }
    }
  }
`);

export const DeleteModelMutation = graphql(`
  mutation DeleteModel($modelId: ID!) {
    deleteModel(modelId: $modelId) {
      __typename
      ... on DeleteModelSuccess {
        data
      }
      ... on Error {
        message
      }
    }
  }
`);

export const TestModelMutation = graphql(`
  mutation TestModel($modelId: ID!, $prompt: String!, $compareWithBase: Boolean) {
    testModel(modelId: $modelId, prompt: $prompt, compareWithBase: $compareWithBase) {
      __typename
      ... on TestModelSuccess {
        data {
          model {
            answer
            reasoning
            latencyMs
          }
          base {
            answer
            reasoning
            latencyMs
          }
        }
      }
      ... on Error {
        message
      }
    }
  }
`);
