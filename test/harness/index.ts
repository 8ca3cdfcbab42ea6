/**
 * The test harness in one import:
 *
 *   import { startVsftpd, certFixtures, tlsOf, createNetns } from '../harness/index.js';
 *
 * env: repo/tool locations, temp dirs, ports, skip-or-fail helpers · certs: X.509 fixtures ·
 * daemons: vsftpd / ProFTPD / Pure-FTPd launchers · netns: namespaces with veth + iptables ·
 * dns: authoritative test DNS · scripted: fake servers · ftpclient: raw FTP transcripts, curl ·
 * proc: process plumbing.
 */
export * from "./env.js";
export * from "./certs.js";
export * from "./daemons.js";
export * from "./dns.js";
export * from "./netns.js";
export * from "./scripted.js";
export * from "./ftpclient.js";
export {
  cleanupStaleDaemons,
  descendantsOf,
  isAlive,
  isListening,
  processGroupMembers,
  spawnDaemon,
  type DaemonProcess,
  type SpawnDaemonOptions,
} from "./proc.js";
export { stopAndAssertNoStrays } from "./daemon-checks.js";

import { cleanupStaleNetns } from "./netns.js";
import { cleanupStaleDaemons } from "./proc.js";

/** Removes everything a crashed earlier run left: daemons, namespaces, host rules, locks. */
export function cleanupStale(): { daemons: number[]; namespaces: string[] } {
  return { daemons: cleanupStaleDaemons(), namespaces: cleanupStaleNetns() };
}
