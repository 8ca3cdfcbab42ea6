/**
 * The optional LLM summary as the bot uses it: the verdict is posted first, the summary is
 * added when (and if) it arrives within its deadline. Off unless OPENAI_API_KEY or
 * OPENAI_BASE_URL is set.
 */
export { summarizerFromEnv } from "../summary/index.js";
