// A throwaway PostgreSQL cluster for tests: initdb in a temp dir, pg_ctl on a free loopback
// port, trust auth for the user "ingot". Debian's postgresql-15 binaries (or PG_BIN / pg_config's
// bindir); as root, initdb and postgres run as the "postgres" user (they refuse root).
//   node test/e2e/postgres-cluster.ts      starts one, prints its URL, stops it on Ctrl-C / SIGTERM
// Tests import startPostgres(). Without binaries it throws (a test FAILS with that message
// when CI is set; elsewhere tests may skip).
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort } from "../support/free-port.ts";

export interface PostgresCluster {
  /** postgres://ingot@127.0.0.1:PORT/postgres */
  url: string;
  port: number;
  dir: string;
  /** A new empty database on this cluster; its URL. */
  createDatabase(prefix?: string): Promise<string>;
  /** Stops the server (fast shutdown: connections are cut), keeping its files. */
  stop(): void;
  /** Starts it again on the same port. */
  start(): void;
  /** Stops it and removes its files. */
  close(): void;
}

export function postgresBinDir(): string | undefined {
  const candidates = [process.env.PG_BIN, "/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin"];
  try {
    candidates.push(execFileSync("pg_config", ["--bindir"], { encoding: "utf8" }).trim());
  } catch {
    // no pg_config on PATH
  }
  return candidates.find((d) => d && existsSync(join(d, "initdb")) && existsSync(join(d, "pg_ctl")));
}

const MISSING = "PostgreSQL server binaries not found (initdb, pg_ctl): install Debian's postgresql (apt-get install postgresql) or set PG_BIN.";

export async function startPostgres(): Promise<PostgresCluster> {
  const bin = postgresBinDir();
  if (!bin) throw new Error(MISSING);
  const root = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), "ingot-pg-"));
  const data = join(dir, "data");
  if (root) {
    const pw = execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim();
    const gr = execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim();
    chownSync(dir, Number(pw), Number(gr));
    chmodSync(dir, 0o700);
  }
  const run = (cmd: string, args: string[]) => {
    const [file, argv] = root ? ["runuser", ["-u", "postgres", "--", join(bin, cmd), ...args]] : [join(bin, cmd), args];
    const r = spawnSync(file, argv, { encoding: "utf8", cwd: dir });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr || r.stdout}`);
  };
  run("initdb", ["-D", data, "-U", "ingot", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]);
  const port = await freePort();
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
  const start = () => run("pg_ctl", ["-D", data, "-l", join(dir, "server.log"), "-o", opts, "-w", "-t", "60", "start"]);
  const stop = () => run("pg_ctl", ["-D", data, "-m", "fast", "-w", "-t", "60", "stop"]);
  start();
  const url = `postgres://ingot@127.0.0.1:${port}/postgres`;
  let n = 0;
  return {
    url,
    port,
    dir,
    async createDatabase(prefix = "ingot") {
      const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${n++}`;
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE ${name}`);
      } finally {
        await c.end();
      }
      return `postgres://ingot@127.0.0.1:${port}/${name}`;
    },
    stop,
    start,
    close() {
      try {
        stop();
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

if (import.meta.main) {
  const cluster = await startPostgres();
  process.stdout.write(`${cluster.url}\n`);
  const end = () => {
    cluster.close();
    process.exit(0);
  };
  process.on("SIGINT", end);
  process.on("SIGTERM", end);
  setInterval(() => undefined, 1 << 30);
}
