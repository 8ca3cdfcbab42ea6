import { readFileSync } from "node:fs";

/**
 * Advance widths read from the shipped TTF files (tables `head`, `hhea`, `hmtx`, `cmap`
 * format 4: the Basic Multilingual Plane), so labels are cut where the text really ends, not
 * where an estimate guesses. Kerning is ignored (it narrows text slightly: a fitted label can only
 * end a little early). Returns undefined when the file cannot be read.
 */
export interface FontMetrics {
  /** Advance of a code point in em; undefined when the font has no glyph for it. */
  advance(codePoint: number): number | undefined;
}

export function loadFontMetrics(file: string): FontMetrics | undefined {
  try {
    const d = readFileSync(file);
    const tables = new Map<string, number>();
    const count = d.readUInt16BE(4);
    for (let i = 0; i < count; i++) tables.set(d.toString("latin1", 12 + 16 * i, 16 + 16 * i), d.readUInt32BE(20 + 16 * i));
    const head = tables.get("head");
    const hhea = tables.get("hhea");
    const hmtx = tables.get("hmtx");
    const cmap = tables.get("cmap");
    if (head === undefined || hhea === undefined || hmtx === undefined || cmap === undefined) return undefined;
    const unitsPerEm = d.readUInt16BE(head + 18);
    const hMetrics = d.readUInt16BE(hhea + 34);
    const width = (glyph: number) => d.readUInt16BE(hmtx + 4 * Math.min(glyph, hMetrics - 1)) / unitsPerEm;
    // The Unicode BMP subtable (platform 3 encoding 1, or platform 0), format 4.
    let sub: number | undefined;
    for (let i = 0; i < d.readUInt16BE(cmap + 2); i++) {
      const platform = d.readUInt16BE(cmap + 4 + 8 * i);
      const encoding = d.readUInt16BE(cmap + 6 + 8 * i);
      const at = cmap + d.readUInt32BE(cmap + 8 + 8 * i);
      if (d.readUInt16BE(at) === 4 && ((platform === 3 && encoding === 1) || platform === 0)) sub = at;
    }
    if (sub === undefined) return undefined;
    const segs = d.readUInt16BE(sub + 6) / 2;
    const ends = sub + 14;
    const starts = ends + 2 * segs + 2;
    const deltas = starts + 2 * segs;
    const offsets = deltas + 2 * segs;
    const cache = new Map<number, number | undefined>();
    return {
      advance(cp) {
        if (cache.has(cp)) return cache.get(cp);
        let result: number | undefined;
        if (cp <= 0xffff)
          for (let i = 0; i < segs; i++) {
            if (cp > d.readUInt16BE(ends + 2 * i)) continue;
            const start = d.readUInt16BE(starts + 2 * i);
            if (cp < start) break;
            const delta = d.readUInt16BE(deltas + 2 * i);
            const ro = d.readUInt16BE(offsets + 2 * i);
            let glyph: number;
            if (ro === 0) glyph = (cp + delta) & 0xffff;
            else {
              const g = d.readUInt16BE(offsets + 2 * i + ro + 2 * (cp - start));
              glyph = g === 0 ? 0 : (g + delta) & 0xffff;
            }
            if (glyph !== 0) result = width(glyph);
            break;
          }
        cache.set(cp, result);
        return result;
      },
    };
  } catch {
    return undefined;
  }
}
