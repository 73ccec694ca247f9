import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import jpeg from "jpeg-js";
import { encodeBaselineJpeg } from "./baseline-jpeg.js";

// jpeg-js (a decoder independent of this encoder) is the judge.
test("property: any size and smooth content decodes back to the same size and close colours", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 45 }),
      fc.integer({ min: 1, max: 45 }),
      fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 9, maxLength: 9 }),
      fc.integer({ min: 50, max: 95 }),
      (width, height, k, quality) => {
        const rgb = new Uint8Array(width * height * 3);
        for (let y = 0; y < height; y++) {
          for (let x = 0; x < width; x++) {
            for (let c = 0; c < 3; c++) {
              // At most ~2 levels a pixel: JPEG is meant for such content (a hard edge rings by design).
              const v = (k[c] ?? 0) * 0.5 + ((k[3 + c] ?? 0) * x) / 128 + ((k[6 + c] ?? 0) * y) / 128;
              rgb[(y * width + x) * 3 + c] = Math.min(255, Math.round(v));
            }
          }
        }
        const bytes = encodeBaselineJpeg(rgb, width, height, quality);
        const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false });
        assert.equal(img.width, width);
        assert.equal(img.height, height);
        let diff = 0;
        for (let i = 0; i < rgb.length; i++) diff += Math.abs((img.data[i] ?? 0) - (rgb[i] ?? 0));
        assert.ok(diff / rgb.length < 4, `mean abs error ${diff / rgb.length}`);
      },
    ),
    { numRuns: 60 },
  );
});

test("noise survives too (long AC runs, 0xFF stuffing), and lower quality is smaller", () => {
  let s = 1;
  const rgb = Uint8Array.from({ length: 64 * 48 * 3 }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s >>> 24;
  });
  const high = encodeBaselineJpeg(rgb, 64, 48, 95);
  const low = encodeBaselineJpeg(rgb, 64, 48, 20);
  assert.ok(low.byteLength < high.byteLength);
  const img = jpeg.decode(high, { useTArray: true, formatAsRGBA: false });
  let diff = 0;
  for (let i = 0; i < rgb.length; i++) diff += Math.abs((img.data[i] ?? 0) - (rgb[i] ?? 0));
  assert.ok(diff / rgb.length < 20, `mean abs error ${diff / rgb.length}`);
  assert.throws(() => encodeBaselineJpeg(rgb, 10, 10, 75), RangeError);
});
