/**
 * Assertions shared by the daemon self-tests (and usable by scenario tests): a stopped server
 * leaves no process behind.
 */
import assert from "node:assert/strict";
import type { RunningServer } from "./daemons.js";
import { descendantsOf, isAlive, processGroupMembers } from "./proc.js";

/**
 * Stops `server` while it has live sessions and asserts that the daemon, its process group and
 * every process it had forked are gone afterwards.
 */
export async function stopAndAssertNoStrays(server: RunningServer): Promise<void> {
  const family = [server.pid, ...descendantsOf(server.pid)];
  await server.stop();
  const alive = family.filter(isAlive);
  assert.deepEqual(alive, [], `processes still alive after stop(): ${alive.join(", ")}\n${server.log()}`);
  assert.deepEqual(processGroupMembers(server.pid), [], "process group not empty after stop()");
}
