//! A small seeded generator (SplitMix64) so that one seed always gives the same fill and the
//! same lettering, on every platform, without pulling a random-number crate into the core.

#[derive(Debug, Clone)]
pub(crate) struct SeededRandom {
    state: u64,
}

impl SeededRandom {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            state: seed ^ 0x6A09_E667_F3BC_C908,
        }
    }

    /// A generator for one sub-task (a pyramid level, a chunk), independent of the others.
    pub(crate) fn derive(seed: u64, stream: u64) -> Self {
        let mut mix = Self::new(seed);
        mix.state ^= stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        mix.next_u64();
        mix
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() >> 32).wrapping_mul(n as u64) >> 32) as usize
    }

    /// Uniform in `-reach..=reach`.
    pub(crate) fn offset(&mut self, reach: usize) -> isize {
        self.below(2 * reach + 1) as isize - reach as isize
    }

    /// Uniform in `0.0..1.0`.
    pub(crate) fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_different_seed_differs() {
        let a: Vec<u64> = (0..8)
            .scan(SeededRandom::new(7), |r, _| Some(r.next_u64()))
            .collect();
        let b: Vec<u64> = (0..8)
            .scan(SeededRandom::new(7), |r, _| Some(r.next_u64()))
            .collect();
        let c: Vec<u64> = (0..8)
            .scan(SeededRandom::new(8), |r, _| Some(r.next_u64()))
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut r = SeededRandom::new(1);
        let mut seen = [false; 5];
        for _ in 0..200 {
            let v = r.below(5);
            assert!(v < 5);
            seen[v] = true;
        }
        assert!(seen.iter().all(|&s| s));
        for _ in 0..200 {
            let o = r.offset(3);
            assert!((-3..=3).contains(&o));
            let u = r.unit();
            assert!((0.0..1.0).contains(&u));
        }
    }
}
