import type { Config } from '../server/config.js';
import type { PrismaClient } from '../server/db/index.js';
import type { DeploymentService } from '../server/deployments/service.js';
import type { JobService } from '../server/jobs/service.js';
import type { Logger } from '../server/logger.js';
import type { PubSub } from '../server/pubsub.js';

/** Shared by every request; built once per server in server/app.ts. */
export interface AppServices {
  prisma: PrismaClient;
  pubsub: PubSub;
  logger: Logger;
  config: Config;
  jobs: JobService;
  deployments: DeploymentService;
}

/** GraphQL context: the app's services plus what identifies this request. */
export interface Context extends AppServices {
  requestId: string;
}
