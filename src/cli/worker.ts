import { z } from "zod";
import { ZoneName } from "../config/file.js";
import { runWorkerProcess } from "../queue/workerProcess.js";
import { parseCommandArgs, UsageError } from "./usage.js";
import type { CliIo } from "./main.js";

const HELP = `Usage: ftp-doctor worker --zone NAME [--concurrency N]

Consume the zone's check queue (REDIS_URL, FTP_DOCTOR_REDIS_PREFIX) and run checks from
this host's network. Profiles come from FTP_DOCTOR_CONFIG; their passwords from this host's
environment or files. SIGTERM/SIGINT drain: running checks finish, no new ones start.
`;

export async function workerCommand(args: string[], io: CliIo): Promise<number> {
  const { values: v } = parseCommandArgs("worker", args, {
    zone: { type: "string" },
    concurrency: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (v.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const zone = ZoneName.safeParse(v.zone ?? io.env.FTP_DOCTOR_ZONE);
  if (!zone.success)
    throw new UsageError(
      (v.zone ?? io.env.FTP_DOCTOR_ZONE) ? `--zone: ${zone.error.issues[0]!.message}` : "worker needs --zone NAME (or FTP_DOCTOR_ZONE)",
    );
  const conc = z.coerce
    .number()
    .int()
    .min(1)
    .max(256)
    .safeParse(v.concurrency ?? io.env.FTP_DOCTOR_CONCURRENCY ?? 8);
  if (!conc.success) throw new UsageError("--concurrency: must be a whole number from 1 to 256");
  await runWorkerProcess({ zone: zone.data, concurrency: conc.data, env: io.env, stdout: io.stdout });
  return 0;
}
