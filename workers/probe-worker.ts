/**
 * Entry point for a probe worker process (containers, systemd): the same as
 * `ftp-doctor worker`, configured only from the environment (FTP_DOCTOR_ZONE,
 * FTP_DOCTOR_CONCURRENCY, REDIS_URL, FTP_DOCTOR_REDIS_PREFIX, FTP_DOCTOR_CONFIG, LOG_LEVEL).
 */
import { main } from "../src/cli/main.js";

process.exitCode = await main(["worker"], { env: process.env, stdout: process.stdout, stderr: process.stderr });
