/** `npm run db:migrate`: create the database if needed and apply drizzle/migrations. */
import { connectDatabase, ensureDatabase, runMigrations } from '../lib/db';

const url = process.env.DATABASE_URL;
if (!url) {
  console.error('DATABASE_URL is missing: e.g. DATABASE_URL=mysql://root@127.0.0.1:3306/callbook npm run db:migrate');
  process.exit(1);
}
await ensureDatabase(url);
const database = connectDatabase(url, 1);
try {
  await runMigrations(database);
  console.log(`migrations applied to ${new URL(url).pathname.slice(1)}`);
} finally {
  await database.close();
}
