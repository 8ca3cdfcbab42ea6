/** Reports for the summary tests, with secrets planted where a careless input builder would find them. */
import type { CheckReport } from "../../src/check/run.js";

/** Planted in the transcript, the evidence and the environment; must never reach the model server. */
export const CANARY = "canary-Zq9v7Xw";
export const CANARY_ENV = "canary-env-Lp3k8Rt";
export const CANARY_USER = "alice-canary";

export function authFailedReport(): CheckReport {
  return {
    schemaVersion: 1,
    target: { input: `ftp://${CANARY_USER}@ftp.example.test:2121`, host: "ftp.example.test", port: 2121, tls: "explicit" },
    startedAt: "2026-11-23T08:00:00.000Z",
    durationMs: 1834,
    verdict: {
      code: "AUTH_FAILED",
      layer: "auth",
      title: `Login failed for ${CANARY_USER}`,
      explanation: "The server rejected the credentials after the password was sent.",
      evidence: [
        `USER ${CANARY_USER} → "331 Please specify the password."`,
        `PASS ${CANARY} → "530 Login incorrect."`,
        `retried as ftp://${CANARY_USER}:${CANARY}@ftp.example.test:2121/ and user:${CANARY}@ftp.example.test`,
      ],
      remediation: [
        "Check the password stored for this account; the server says it is wrong.",
        "If it was changed recently, update the profile's password variable.",
      ],
    },
    secondary: [],
    findings: [{ code: "TLS_CERT_EXPIRING", severity: "medium", message: "The certificate expires in 9 days (2026-12-02)." }],
    scope: ["data channel not tested"],
    server: { software: "vsftpd", version: "3.0.5", banner: "220 (vsFTPd 3.0.5)" },
    steps: [{ id: "login", status: "fail", startMs: 900, durationMs: 930, detail: `530 for ${CANARY_USER}` }] as CheckReport["steps"],
    transcript: [
      { t: 120, dir: "<", conn: "ctl", text: "220 (vsFTPd 3.0.5)" },
      { t: 300, dir: ">", conn: "ctl", text: `USER ${CANARY_USER}` },
      { t: 310, dir: "<", conn: "ctl", text: "331 Please specify the password." },
      { t: 320, dir: ">", conn: "ctl", text: `PASS ${CANARY}` },
      { t: 1250, dir: "<", conn: "ctl", text: "530 Login incorrect." },
    ],
    summary: null,
  };
}

export function healthyReport(): CheckReport {
  return {
    schemaVersion: 1,
    target: { input: "ftp.example.test", host: "ftp.example.test", port: 21, tls: "explicit" },
    startedAt: "2026-11-23T08:00:00.000Z",
    durationMs: 912,
    verdict: {
      code: "HEALTHY",
      layer: "none",
      title: "ftp.example.test:21 works",
      explanation: "Connect, TLS, login and a directory listing all worked.",
      evidence: ['LIST → "226 Directory send OK."'],
      remediation: [],
    },
    secondary: [],
    findings: [],
    scope: [],
    server: { software: "proftpd", version: "1.3.8" },
    steps: [],
    transcript: [],
    summary: null,
  };
}

export const GOOD_AUTH_ANSWER = {
  text:
    "Logins to the company FTP server at ftp.example.test are being rejected: the password the check uses is wrong.\n" +
    "Anyone relying on this account cannot transfer files until it is fixed.",
  severity: "high",
  nextAction: "Ask the account owner to confirm the password and update the stored profile secret.",
};
