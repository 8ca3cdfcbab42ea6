/** Every Redis key ftp-doctor itself writes (BullMQ's own keys share the same prefix). */
export const keys = {
  queueName: (zone: string) => `checks-${zone}`,
  report: (prefix: string, jobId: string) => `${prefix}:report:${jobId}`,
  history: (prefix: string, targetKey: string) => `${prefix}:history:${targetKey}`,
  zoneWorkers: (prefix: string, zone: string) => `${prefix}:zone:${zone}:workers`,
  zones: (prefix: string) => `${prefix}:zones`,
} as const;

/** History is kept per `host:port`, however the target was typed. */
export function targetKey(host: string, port: number): string {
  return `${host.toLowerCase()}:${port}`;
}
