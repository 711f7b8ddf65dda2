// Keccak-256 as Ethereum uses it (original padding 0x01, not SHA-3's 0x06): for the ids the rule
// contracts derive (sectionIdOf, drawIdOf). Lanes are BigInts: a timeline hashes a handful of
// short inputs, so clarity wins over speed. Tested against eth_utils.keccak (tests/notary/web).

const LANE = (1n << 64n) - 1n;
const rotl64 = (x, n) => ((x << BigInt(n)) | (x >> BigInt(64 - n))) & LANE;

// Round constants from the LFSR of the Keccak reference (x^8 + x^6 + x^5 + x^4 + 1).
function rcBit(t) {
  let r = 1;
  for (let i = 0; i < t % 255; i++) {
    r <<= 1;
    if (r & 0x100) r ^= 0x171;
  }
  return r & 1;
}
const ROUND_CONSTANTS = Array.from({ length: 24 }, (_, round) => {
  let c = 0n;
  for (let j = 0; j <= 6; j++) if (rcBit(j + 7 * round)) c |= 1n << BigInt((1 << j) - 1);
  return c;
});
// Rotation offsets r[x + 5y], from the walk (x, y) → (y, 2x + 3y) starting at (1, 0).
const ROTATIONS = new Array(25).fill(0);
for (let t = 0, x = 1, y = 0; t < 24; t++) {
  ROTATIONS[x + 5 * y] = ((t + 1) * (t + 2) / 2) % 64;
  [x, y] = [y, (2 * x + 3 * y) % 5];
}

function permute(a) {
  for (let round = 0; round < 24; round++) {
    const c = [0, 1, 2, 3, 4].map((x) => a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20]);
    for (let x = 0; x < 5; x++) {
      const d = c[(x + 4) % 5] ^ rotl64(c[(x + 1) % 5], 1);
      for (let y = 0; y < 25; y += 5) a[x + y] ^= d;
    }
    const b = new Array(25);
    for (let x = 0; x < 5; x++) {
      for (let y = 0; y < 5; y++) b[y + 5 * ((2 * x + 3 * y) % 5)] = rotl64(a[x + 5 * y], ROTATIONS[x + 5 * y]);
    }
    for (let i = 0; i < 25; i++) {
      const x = i % 5, row = i - x;
      a[i] = b[i] ^ (~b[row + ((x + 1) % 5)] & LANE & b[row + ((x + 2) % 5)]);
    }
    a[0] ^= ROUND_CONSTANTS[round];
  }
}

export function keccak256(bytes) {
  const rate = 136;
  const padded = new Uint8Array((Math.floor(bytes.length / rate) + 1) * rate);
  padded.set(bytes);
  padded[bytes.length] ^= 0x01;
  padded[padded.length - 1] ^= 0x80;
  const state = new Array(25).fill(0n);
  for (let offset = 0; offset < padded.length; offset += rate) {
    for (let i = 0; i < rate / 8; i++) {
      let lane = 0n;
      for (let k = 7; k >= 0; k--) lane = (lane << 8n) | BigInt(padded[offset + 8 * i + k]);
      state[i] ^= lane;
    }
    permute(state);
  }
  const out = new Uint8Array(32);
  for (let i = 0; i < 4; i++) {
    let lane = state[i];
    for (let k = 0; k < 8; k++) {
      out[8 * i + k] = Number(lane & 0xffn);
      lane >>= 8n;
    }
  }
  return out;
}
