import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { parse as parseYaml } from "yaml";
import { PromptError } from "./failures.js";

/**
 * Prompts are versioned files in prompts/ (summary.v1.md, digest.v1.md). Each opens with YAML
 * front matter naming its variables; the body has a `## system` and a `## user` section with
 * `{{variable}}` placeholders. A new wording is a new file (v2), so logs name the exact prompt used.
 */
export const PROMPT_NAMES = ["summary.v1", "digest.v1"] as const;
export type PromptName = (typeof PROMPT_NAMES)[number];

/** From dist/src/summary/ (compiled) three levels up is the package root; prompts/ ships beside dist/. */
export const PROMPTS_DIR = new URL("../../../prompts/", import.meta.url);

const FrontMatter = z
  .object({
    name: z.string().min(1),
    version: z.number().int().min(1),
    description: z.string().optional(),
    variables: z.array(z.string().regex(/^[a-z][a-z0-9_]*$/, "variable names are lower_snake_case")).min(1),
  })
  .strict();

export interface Prompt {
  /** "summary.v1": file name without .md. */
  id: PromptName;
  variables: string[];
  system: string;
  user: string;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;

/** Parse a prompt file's text; every problem is a PromptError naming the file. */
export function parsePrompt(id: PromptName, text: string): Prompt {
  const m = /^---\r?\n([\s\S]*?)\r?\n---\r?\n([\s\S]*)$/.exec(text);
  if (!m) throw new PromptError(`prompts/${id}.md: must open with a --- YAML front matter block naming its variables`);
  let meta: z.infer<typeof FrontMatter>;
  try {
    const r = FrontMatter.safeParse(parseYaml(m[1]!));
    if (!r.success)
      throw new PromptError(`prompts/${id}.md: front matter: ${r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    meta = r.data;
  } catch (err) {
    if (err instanceof PromptError) throw err;
    throw new PromptError(`prompts/${id}.md: front matter is not YAML: ${(err as Error).message.split("\n")[0]}`);
  }
  if (`${meta.name}.v${meta.version}` !== id) throw new PromptError(`prompts/${id}.md: front matter says ${meta.name}.v${meta.version}`);
  const sections = m[2]!.split(/^## (system|user)[ \t]*$/m);
  // split with a capture group: [preamble, "system", body, "user", body]
  const body: Record<string, string> = {};
  for (let i = 1; i + 1 < sections.length; i += 2) body[sections[i]!] = sections[i + 1]!.trim();
  if (!body.system || !body.user) throw new PromptError(`prompts/${id}.md: needs a "## system" and a "## user" section`);
  const declared = new Set(meta.variables);
  const used = new Set([...`${body.system}\n${body.user}`.matchAll(PLACEHOLDER)].map((x) => x[1]!));
  const undeclared = [...used].filter((v) => !declared.has(v));
  if (undeclared.length) throw new PromptError(`prompts/${id}.md: uses undeclared variable(s) ${undeclared.join(", ")}`);
  const unused = [...declared].filter((v) => !used.has(v));
  if (unused.length) throw new PromptError(`prompts/${id}.md: declares variable(s) it never uses: ${unused.join(", ")}`);
  return { id, variables: meta.variables, system: body.system, user: body.user };
}

const cache = new Map<PromptName, Prompt>();

/** Load (once) and validate prompts/<id>.md. */
export function loadPrompt(id: PromptName, dir: URL = PROMPTS_DIR): Prompt {
  const hit = dir === PROMPTS_DIR ? cache.get(id) : undefined;
  if (hit) return hit;
  const file = new URL(`${id}.md`, dir);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new PromptError(
      `prompt file ${fileURLToPath(file)} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): ship prompts/ next to dist/`,
    );
  }
  const p = parsePrompt(id, text);
  if (dir === PROMPTS_DIR) cache.set(id, p);
  return p;
}

/**
 * Fill a prompt. Every declared variable must be supplied and nothing else; values are inserted
 * in one pass, so a `{{x}}` inside a value (server text quoted in evidence) is never expanded.
 */
export function renderPrompt(p: Prompt, vars: Record<string, string>): { system: string; user: string } {
  const missing = p.variables.filter((v) => !(v in vars));
  if (missing.length) throw new PromptError(`prompts/${p.id}.md: no value for ${missing.join(", ")}`);
  const extra = Object.keys(vars).filter((v) => !p.variables.includes(v));
  if (extra.length) throw new PromptError(`prompts/${p.id}.md: does not declare ${extra.join(", ")}`);
  const fill = (s: string) => s.replace(PLACEHOLDER, (_m, name: string) => vars[name]!);
  return { system: fill(p.system), user: fill(p.user) };
}
