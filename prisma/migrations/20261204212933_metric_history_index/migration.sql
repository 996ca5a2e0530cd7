-- CreateIndex
CREATE INDEX "MetricPoint_jobId_createdAt_id_idx" ON "MetricPoint"("jobId", "createdAt", "id");
