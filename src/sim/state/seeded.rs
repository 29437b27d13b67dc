//! Deterministic per-entity randomness: every value is a pure function of the seed and ids.

/// SplitMix64: a fast, well-mixed hash for deterministic per-entity randomness.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A deterministic value in `lo..hi` for (seed, id, salt).
pub fn pick(seed: u64, id: u64, salt: u64, lo: u64, hi: u64) -> u64 {
    if hi <= lo {
        return lo;
    }
    lo + mix(seed ^ mix(id ^ mix(salt))) % (hi - lo)
}

/// A 40-hex SHA derived from the seed and a tag.
pub fn sha_for(seed: u64, tag: u64) -> String {
    let mut s = String::with_capacity(40);
    let mut x = mix(seed ^ mix(tag));
    for _ in 0..3 {
        s.push_str(&format!("{x:016x}"));
        x = mix(x);
    }
    s.truncate(40);
    s
}
