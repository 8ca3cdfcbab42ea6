/**
 * Start-up checks of the Slack credentials: one line per mistake, naming the variable, what it
 * should look like and where it is in the Slack app settings (api.slack.com/apps → your app).
 * Token prefixes: api.slack.com/authentication/token-types.
 */

const WHERE = {
  bot: "OAuth & Permissions → Bot User OAuth Token",
  app: "Basic Information → App-Level Tokens (scope connections:write)",
  secret: "Basic Information → App Credentials → Signing Secret",
} as const;

/** What a token string is, by its prefix. */
function kindOf(token: string): "bot" | "app" | "user" | "refresh" | "config" | "unknown" {
  if (token.startsWith("xoxb-")) return "bot";
  if (token.startsWith("xapp-")) return "app";
  if (token.startsWith("xoxp-")) return "user";
  if (token.startsWith("xoxe-") || token.startsWith("xoxr-")) return "refresh";
  if (token.startsWith("xoxe.xox")) return "config";
  return "unknown";
}

const KIND_NAME: Record<ReturnType<typeof kindOf>, string> = {
  bot: "a bot token (xoxb-…)",
  app: "an app-level token (xapp-…)",
  user: "a user token (xoxp-…)",
  refresh: "a refresh token (xoxe-…)",
  config: "an app configuration token (xoxe.xoxp-…)",
  unknown: "something that is not a Slack token",
};

function pasteProblem(name: string, value: string): string | undefined {
  if (value !== value.trim()) return `${name} has spaces or line breaks around the token: copy the token alone`;
  if (/^["']|["']$/.test(value)) return `${name} is wrapped in quotes: remove them (in .env files too)`;
  if (/\s/.test(value)) return `${name} contains spaces: copy the token alone`;
  return undefined;
}

/** Every problem with the Slack credentials in `env`, one line each; empty when they look right. */
export function tokenProblems(env: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  const bot = env.SLACK_BOT_TOKEN;
  const app = env.SLACK_APP_TOKEN;
  const secret = env.SLACK_SIGNING_SECRET;
  if (!bot) problems.push(`SLACK_BOT_TOKEN is not set: it is the bot token (xoxb-…), in the Slack app settings under ${WHERE.bot}`);
  else {
    const paste = pasteProblem("SLACK_BOT_TOKEN", bot);
    const kind = kindOf(bot.trim().replace(/^["']|["']$/g, ""));
    if (paste) problems.push(paste);
    else if (kind !== "bot")
      problems.push(
        `SLACK_BOT_TOKEN holds ${KIND_NAME[kind]}: it must be the bot token (xoxb-…), ` +
          `from ${WHERE.bot}${kind === "app" ? "; the xapp- token belongs in SLACK_APP_TOKEN" : ""}`,
      );
  }
  if (app) {
    const paste = pasteProblem("SLACK_APP_TOKEN", app);
    const kind = kindOf(app.trim().replace(/^["']|["']$/g, ""));
    if (paste) problems.push(paste);
    else if (kind !== "app")
      problems.push(
        `SLACK_APP_TOKEN holds ${KIND_NAME[kind]}: Socket Mode needs an app-level token (xapp-…), ` +
          `from ${WHERE.app}${kind === "bot" ? "; the xoxb- token belongs in SLACK_BOT_TOKEN" : ""}`,
      );
  }
  if (secret && kindOf(secret) !== "unknown")
    problems.push(`SLACK_SIGNING_SECRET holds ${KIND_NAME[kindOf(secret)]}, not the signing secret: copy it from ${WHERE.secret}`);
  if (!app && !secret)
    problems.push(`set SLACK_APP_TOKEN (xapp-…, Socket Mode: ${WHERE.app}) or SLACK_SIGNING_SECRET (HTTP mode: ${WHERE.secret})`);
  return problems;
}

/** Slack error codes that mean the token itself is wrong: waiting will not help. */
const REFUSED = [
  "invalid_auth",
  "not_authed",
  "token_revoked",
  "token_expired",
  "account_inactive",
  "not_allowed_token_type",
  "team_disabled",
  "user_removed_from_team",
  "missing_scope",
] as const;

export function isTokenRefusal(code: string | undefined): boolean {
  return (REFUSED as readonly string[]).includes(code ?? "");
}

/** One line for a token Slack refused at start-up. */
export function refusalLine(variable: "SLACK_BOT_TOKEN" | "SLACK_APP_TOKEN", code: string): string {
  const where = variable === "SLACK_BOT_TOKEN" ? WHERE.bot : WHERE.app;
  const why: Record<string, string> = {
    token_revoked: "the token was revoked (app uninstalled or token regenerated)",
    token_expired: "the token has expired (token rotation is on: use a non-expiring token or refresh it)",
    account_inactive: "the app or its workspace was deactivated",
    not_allowed_token_type: variable === "SLACK_APP_TOKEN" ? "it is not an app-level token" : "this token type cannot call the Web API",
    missing_scope: variable === "SLACK_APP_TOKEN" ? "the app-level token lacks the connections:write scope" : "the bot token lacks a scope",
  };
  return `${variable} was refused by Slack (${code}${why[code] ? `: ${why[code]}` : ""}): copy the current token from ${where}, or reinstall the app`;
}
