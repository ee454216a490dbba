// CRC32C (Castagnoli), the checksum Secret Manager uses for end-to-end payload integrity.
const CASTAGNOLI_REVERSED = 0x82f63b78;

const TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? CASTAGNOLI_REVERSED ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
