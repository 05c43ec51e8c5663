import {
  connectDatabase,
  ensureDatabase,
  runMigrations
} from "./chunks/chunk-AFPE6KLN.js";
import "./chunks/chunk-42NABTHE.js";
import "./chunks/chunk-AQ2OROU7.js";
import "./chunks/chunk-54KOYG5C.js";

// drizzle/migrate.ts
var url = process.env.DATABASE_URL;
if (!url) {
  console.error("DATABASE_URL is missing: e.g. DATABASE_URL=mysql://root@127.0.0.1:3306/callbook npm run db:migrate");
  process.exit(1);
}
await ensureDatabase(url);
var database = connectDatabase(url, 1);
try {
  await runMigrations(database);
  console.log(`migrations applied to ${new URL(url).pathname.slice(1)}`);
} finally {
  await database.close();
}
//# sourceMappingURL=migrate.js.map
