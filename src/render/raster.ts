import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * SVG → PNG with resvg (Rust, no browser, no system fonts). The fonts are the DejaVu Sans
 * files shipped in src/render/fonts/ (license beside them), so the same SVG gives the same
 * pixels on every machine and nothing is fetched at run time.
 */
const FONT_DIR = new URL("../../../src/render/fonts/", import.meta.url);
export const FONT_FILES = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"].map((f) => fileURLToPath(new URL(f, FONT_DIR)));

export class RenderError extends Error {
  override readonly name = "RenderError";
}

/** Rasterise off the main thread (resvg's renderAsync runs on libuv's pool): the bot keeps answering. */
export async function svgToPng(svg: string): Promise<Buffer> {
  const missing = FONT_FILES.filter((f) => !existsSync(f));
  if (missing.length) throw new RenderError(`font files missing: ${missing.join(", ")} (they ship in src/render/fonts/)`);
  // Loaded on demand: the CLI's text output does not pay for the native module.
  const { renderAsync } = await import("@resvg/resvg-js");
  const img = await renderAsync(svg, {
    font: { loadSystemFonts: false, fontFiles: FONT_FILES, defaultFontFamily: "DejaVu Sans", sansSerifFamily: "DejaVu Sans" },
    fitTo: { mode: "original" },
    shapeRendering: 2,
    textRendering: 1,
    logLevel: "off",
  });
  return img.asPng();
}
