// Message bodies for the permessage-deflate workload (g): JSON-like chat records made of
// pseudo-random words, so that compression behaves as with real traffic (about 2.5:1 for a 64 B
// message with context takeover, 3.7:1 for 64 KiB) rather than collapsing a repeated pattern.

const next = (s) => (Math.imul(s, 1103515245) + 12345) >>> 0;

const VOCAB = (() => {
  const words = [];
  let v = 99991;
  for (let i = 0; i < 512; i++) {
    let w = '';
    v = next(v);
    const len = 2 + ((v >>> 8) % 8);
    for (let k = 0; k < len; k++) {
      v = next(v);
      w += String.fromCharCode(97 + ((v >>> 8) % 26));
    }
    words.push(w);
  }
  return words;
})();

/**
 * A deterministic message of exactly `n` bytes (latin1); different seeds give different messages.
 * @param {number} n
 * @param {number} seed
 * @returns {Buffer}
 */
export function makeMessage(n, seed) {
  let s = seed >>> 0 || 1;
  const rnd = () => {
    s = next(s);
    return s >>> 8;
  };
  const words = (k) => Array.from({ length: k }, () => VOCAB[rnd() % VOCAB.length]).join(' ');
  let out = '';
  while (out.length < n) {
    out += `{"type":"message","room":"${VOCAB[rnd() % 16]}","user":"${VOCAB[rnd() % VOCAB.length]}",`;
    out += `"id":${rnd() % 1000000},"text":"${words(3 + (rnd() % 12))}"}`;
  }
  return Buffer.from(out.slice(0, n), 'latin1');
}
