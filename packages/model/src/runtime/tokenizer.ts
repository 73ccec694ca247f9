import type { TokenizerSpec } from "../manifest.js";

export interface TokenBatch {
  ids: BigInt64Array;
  mask: BigInt64Array;
  batch: number;
  length: number;
}

/**
 * UTF-8 byte tokenizer: any Unicode prompt maps to ids without a vocabulary file.
 * NFC first, so canonically equal prompts give equal tokens. BOS + bytes + EOS, truncated and
 * right-padded to maxLength; mask is 1 on real tokens.
 */
export function tokenizeBatch(texts: string[], spec: TokenizerSpec): TokenBatch {
  const L = spec.maxLength;
  const ids = new BigInt64Array(texts.length * L).fill(BigInt(spec.padId));
  const mask = new BigInt64Array(texts.length * L);
  const encoder = new TextEncoder();
  texts.forEach((text, b) => {
    const bytes = encoder.encode(text.normalize("NFC")).subarray(0, L - 2);
    const row = b * L;
    ids[row] = BigInt(spec.bosId);
    bytes.forEach((byte, i) => {
      ids[row + 1 + i] = BigInt(byte + spec.byteOffset);
    });
    ids[row + 1 + bytes.length] = BigInt(spec.eosId);
    mask.fill(1n, row, row + bytes.length + 2);
  });
  return { ids, mask, batch: texts.length, length: L };
}
