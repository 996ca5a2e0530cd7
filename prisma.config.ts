import { defineConfig } from 'prisma/config';

// Used by the Prisma CLI only (generate, and migrate where a user has the native
// engine). The server opens the database through a driver adapter, see server/db/.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/tunedeck' },
});
