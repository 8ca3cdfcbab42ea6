/** Queue errors, in a module of their own so the CLI can recognise them without loading BullMQ. */
export class NoWorkerError extends Error {
  override readonly name = "NoWorkerError";
  constructor(readonly zone: string) {
    super(
      `no live worker in zone "${zone}": start one there with \`ftp-doctor worker --zone ${zone}\` ` +
        "(or check REDIS_URL/FTP_DOCTOR_REDIS_PREFIX match the worker's)",
    );
  }
}

export class CheckFailedError extends Error {
  override readonly name = "CheckFailedError";
}

/** Redis did not answer or refused the connection (exit 3: the check could not be made). */
export class RedisUnavailableError extends Error {
  override readonly name = "RedisUnavailableError";
}
