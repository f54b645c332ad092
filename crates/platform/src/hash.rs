//! A small stable hash (FNV-1a), for values that must agree across processes and
//! versions: advisory-lock keys, page-token checks, consumer lanes. Not for security.

/// The 64-bit FNV-1a hash of `bytes`: fixed by its specification, so the same in every
/// process and version (unlike `std`'s hasher, seeded per process).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    #[test]
    fn matches_the_reference_values() {
        assert_eq!(super::fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(super::fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
