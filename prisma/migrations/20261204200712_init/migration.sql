-- CreateEnum
CREATE TYPE "JobStatus" AS ENUM ('QUEUED', 'RUNNING', 'CANCELLING', 'CANCELLED', 'FAILED', 'SUCCEEDED');

-- CreateEnum
CREATE TYPE "JobPhase" AS ENUM ('LOADING', 'PROCESSING', 'TRAINING', 'EVALUATING', 'MERGING', 'REGISTERING', 'DEPLOYING');

-- CreateEnum
CREATE TYPE "RunStatus" AS ENUM ('QUEUED', 'DOWNLOADING', 'PROCESSING', 'TRAINING', 'EVALUATING', 'RECOVERING', 'SUCCEEDED', 'FAILED', 'SKIPPED', 'CANCELLED');

-- CreateEnum
CREATE TYPE "ExecutorKind" AS ENUM ('LOCAL', 'MODAL');

-- CreateEnum
CREATE TYPE "ModelStatus" AS ENUM ('REGISTERED', 'VERIFYING', 'DEPLOYABLE', 'NOT_DEPLOYABLE');

-- CreateEnum
CREATE TYPE "DeploymentStatus" AS ENUM ('PENDING', 'DEPLOYING', 'READY', 'FAILED', 'STOPPED');

-- CreateTable
CREATE TABLE "Job" (
    "id" TEXT NOT NULL,
    "status" "JobStatus" NOT NULL DEFAULT 'QUEUED',
    "phase" "JobPhase",
    "executor" "ExecutorKind" NOT NULL,
    "modelName" TEXT NOT NULL,
    "maxSeqLength" INTEGER NOT NULL,
    "reasoningEffort" TEXT NOT NULL DEFAULT 'low',
    "training" JSONB NOT NULL,
    "gpuType" TEXT NOT NULL,
    "gpuCount" INTEGER NOT NULL DEFAULT 1,
    "timeoutHours" INTEGER NOT NULL,
    "continueOnFailure" BOOLEAN NOT NULL DEFAULT false,
    "mergeAdapters" BOOLEAN NOT NULL DEFAULT true,
    "sequential" BOOLEAN NOT NULL DEFAULT true,
    "idempotencyKey" TEXT,
    "inputHash" TEXT NOT NULL,
    "estimate" JSONB NOT NULL,
    "error" TEXT,
    "lastSeq" INTEGER NOT NULL DEFAULT 0,
    "mergeAttempt" INTEGER NOT NULL DEFAULT 0,
    "mergeRef" TEXT,
    "mergedPath" TEXT,
    "initAdapter" TEXT,
    "retryOfJobId" TEXT,
    "name" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),
    "cancelRequestedAt" TIMESTAMP(3),

    CONSTRAINT "Job_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "DatasetRun" (
    "id" TEXT NOT NULL,
    "jobId" TEXT NOT NULL,
    "index" INTEGER NOT NULL,
    "priority" INTEGER NOT NULL,
    "source" TEXT NOT NULL,
    "repo" TEXT,
    "file" TEXT,
    "revision" TEXT,
    "path" TEXT,
    "format" TEXT NOT NULL DEFAULT 'csv',
    "trainSplit" DOUBLE PRECISION NOT NULL,
    "description" TEXT,
    "columnMapping" JSONB,
    "qualityThreshold" DOUBLE PRECISION,
    "topicsInclude" TEXT[],
    "topicsExclude" TEXT[],
    "maxRows" INTEGER,
    "status" "RunStatus" NOT NULL DEFAULT 'QUEUED',
    "attempt" INTEGER NOT NULL DEFAULT 0,
    "executorRef" TEXT,
    "outputDir" TEXT,
    "initAdapter" TEXT,
    "adapterPath" TEXT,
    "step" INTEGER NOT NULL DEFAULT 0,
    "totalSteps" INTEGER NOT NULL,
    "tokensSeen" DOUBLE PRECISION,
    "lastHeartbeatAt" TIMESTAMP(3),
    "report" JSONB,
    "finalMetrics" JSONB,
    "datasetSha256" TEXT,
    "datasetBytes" DOUBLE PRECISION,
    "error" TEXT,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "DatasetRun_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "MetricPoint" (
    "id" SERIAL NOT NULL,
    "jobId" TEXT NOT NULL,
    "runId" TEXT NOT NULL,
    "step" INTEGER NOT NULL,
    "split" TEXT NOT NULL,
    "loss" DOUBLE PRECISION,
    "learningRate" DOUBLE PRECISION,
    "gradNorm" DOUBLE PRECISION,
    "tokensPerSecond" DOUBLE PRECISION,
    "gpuUtilization" DOUBLE PRECISION,
    "gpuMemoryGb" DOUBLE PRECISION,
    "perplexity" DOUBLE PRECISION,
    "nonFinite" TEXT[],
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "MetricPoint_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Event" (
    "id" SERIAL NOT NULL,
    "jobId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "runId" TEXT,
    "stage" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "stream" TEXT NOT NULL,
    "streamSeq" INTEGER NOT NULL,
    "type" TEXT NOT NULL,
    "level" TEXT,
    "message" TEXT,
    "data" JSONB NOT NULL,
    "ts" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Checkpoint" (
    "id" TEXT NOT NULL,
    "jobId" TEXT NOT NULL,
    "runId" TEXT NOT NULL,
    "step" INTEGER NOT NULL,
    "path" TEXT NOT NULL,
    "bytes" DOUBLE PRECISION,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Checkpoint_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ModelVersion" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "jobId" TEXT NOT NULL,
    "baseModel" TEXT NOT NULL,
    "adapterPath" TEXT,
    "mergedPath" TEXT,
    "status" "ModelStatus" NOT NULL DEFAULT 'REGISTERED',
    "gateReason" TEXT,
    "metrics" JSONB NOT NULL,
    "lineage" JSONB NOT NULL,
    "hyperparameters" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ModelVersion_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Deployment" (
    "id" TEXT NOT NULL,
    "modelId" TEXT NOT NULL,
    "status" "DeploymentStatus" NOT NULL DEFAULT 'PENDING',
    "executor" "ExecutorKind" NOT NULL,
    "gpuType" TEXT NOT NULL,
    "maxConcurrentRequests" INTEGER NOT NULL,
    "autoScale" BOOLEAN NOT NULL,
    "idleTimeoutSeconds" INTEGER NOT NULL,
    "endpointUrl" TEXT,
    "externalRef" TEXT,
    "error" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "readyAt" TIMESTAMP(3),
    "stoppedAt" TIMESTAMP(3),

    CONSTRAINT "Deployment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ApiKey" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "scopes" TEXT[],
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUsedAt" TIMESTAMP(3),
    "revokedAt" TIMESTAMP(3),

    CONSTRAINT "ApiKey_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Job_idempotencyKey_key" ON "Job"("idempotencyKey");

-- CreateIndex
CREATE INDEX "Job_status_createdAt_idx" ON "Job"("status", "createdAt");

-- CreateIndex
CREATE INDEX "Job_createdAt_idx" ON "Job"("createdAt");

-- CreateIndex
CREATE INDEX "DatasetRun_status_idx" ON "DatasetRun"("status");

-- CreateIndex
CREATE UNIQUE INDEX "DatasetRun_jobId_index_key" ON "DatasetRun"("jobId", "index");

-- CreateIndex
CREATE INDEX "MetricPoint_jobId_step_idx" ON "MetricPoint"("jobId", "step");

-- CreateIndex
CREATE UNIQUE INDEX "MetricPoint_runId_split_step_key" ON "MetricPoint"("runId", "split", "step");

-- CreateIndex
CREATE INDEX "Event_jobId_type_seq_idx" ON "Event"("jobId", "type", "seq");

-- CreateIndex
CREATE UNIQUE INDEX "Event_jobId_seq_key" ON "Event"("jobId", "seq");

-- CreateIndex
CREATE UNIQUE INDEX "Event_jobId_stream_streamSeq_key" ON "Event"("jobId", "stream", "streamSeq");

-- CreateIndex
CREATE UNIQUE INDEX "Checkpoint_runId_step_key" ON "Checkpoint"("runId", "step");

-- CreateIndex
CREATE UNIQUE INDEX "ModelVersion_jobId_key" ON "ModelVersion"("jobId");

-- CreateIndex
CREATE INDEX "ModelVersion_createdAt_idx" ON "ModelVersion"("createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "ModelVersion_name_version_key" ON "ModelVersion"("name", "version");

-- CreateIndex
CREATE INDEX "Deployment_modelId_createdAt_idx" ON "Deployment"("modelId", "createdAt");

-- CreateIndex
CREATE INDEX "Deployment_status_idx" ON "Deployment"("status");

-- CreateIndex
CREATE UNIQUE INDEX "ApiKey_hash_key" ON "ApiKey"("hash");

-- AddForeignKey
ALTER TABLE "DatasetRun" ADD CONSTRAINT "DatasetRun_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "MetricPoint" ADD CONSTRAINT "MetricPoint_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "MetricPoint" ADD CONSTRAINT "MetricPoint_runId_fkey" FOREIGN KEY ("runId") REFERENCES "DatasetRun"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Event" ADD CONSTRAINT "Event_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Checkpoint" ADD CONSTRAINT "Checkpoint_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Checkpoint" ADD CONSTRAINT "Checkpoint_runId_fkey" FOREIGN KEY ("runId") REFERENCES "DatasetRun"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ModelVersion" ADD CONSTRAINT "ModelVersion_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Deployment" ADD CONSTRAINT "Deployment_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "ModelVersion"("id") ON DELETE CASCADE ON UPDATE CASCADE;
