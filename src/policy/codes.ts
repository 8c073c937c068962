/** Pairing codes: short enough to type, random enough not to guess within their hour. */

/** No 0/O, 1/I/L: people read these codes out and type them. */
const ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
export const PAIRING_CODE_LENGTH = 8;
export const PAIRING_CODE_TTL_MS = 60 * 60 * 1000;
/** Pending requests per platform; a stranger flood can't grow the table. */
export const MAX_PENDING_PER_PLATFORM = 3;

export function newPairingCode(): string {
  const out: string[] = [];
  // Rejection sampling keeps every letter equally likely (256 is not a multiple of the alphabet).
  const limit = 256 - (256 % ALPHABET.length);
  while (out.length < PAIRING_CODE_LENGTH) {
    for (const byte of crypto.getRandomValues(new Uint8Array(16))) {
      if (byte < limit && out.length < PAIRING_CODE_LENGTH) out.push(ALPHABET[byte % ALPHABET.length]!);
    }
  }
  return out.join("");
}

/** What people type: any case, spaces or dashes in between. */
export function normalisePairingCode(input: string): string {
  return input.toUpperCase().replace(/[\s-]/g, "");
}
