import type { AccessControl, Principal } from '../server/auth/index.js';
import type { Config } from '../server/config.js';
import type { PrismaClient } from '../server/db/index.js';
import type { DeploymentService } from '../server/deployments/service.js';
import type { EventFeeds } from '../server/jobs/feed.js';
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
  /** Shared readers of new events, one per job with subscribers. */
  eventFeeds: EventFeeds;
  access: AccessControl;
}

/** GraphQL context: the app's services plus what identifies this request. */
export interface Context extends AppServices {
  requestId: string;
  /** The key (or open mode) the request was authenticated as. */
  auth: Principal;
  /** Groups subscriptions while the server runs open: the WebSocket, or the client address over HTTP. */
  connectionId: string;
}
