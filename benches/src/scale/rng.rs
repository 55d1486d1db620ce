//! A small seeded random generator whose sequence is fixed by this file alone, so a corpus
//! depends on its seed and on nothing a dependency upgrade could change.

/// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators",
/// OOPSLA 2014): one 64-bit state, every output a bijective mix of the next state.
#[derive(Debug, Clone)]
pub struct SeededRng {
    state: u64,
}

impl SeededRng {
    /// Returns a generator for one entity: the corpus seed, a stream label (`person`,
    /// `work`…) and the entity's number give independent sequences, so an entity can be
    /// regenerated on its own, in any order, without the ones before it.
    pub fn for_entity(seed: u64, stream: &str, number: u64) -> SeededRng {
        let label = stream
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
                (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
            });
        let mut rng = SeededRng {
            state: seed ^ label.rotate_left(17) ^ number.wrapping_mul(0x9e37_79b9_7f4a_7c15),
        };
        rng.next_u64();
        rng
    }

    /// Returns the next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut mixed = self.state;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        mixed ^ (mixed >> 31)
    }

    /// Returns a number in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1_u64 << 53) as f64
    }

    /// Returns true with probability `probability`.
    pub fn chance(&mut self, probability: f64) -> bool {
        self.unit() < probability
    }

    /// Returns a number in `[0, bound)`; 0 when `bound` is 0.
    pub fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 {
            return 0;
        }
        ((u128::from(self.next_u64()) * u128::from(bound)) >> 64) as u64
    }

    /// Returns an index in `[0, len)`; 0 when `len` is 0.
    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// Returns an index in `[0, len)` drawn by Zipf's law with exponent 1 (rank `r` with
    /// weight `1 / (r + 1)`), as frequent names and words are distributed.
    pub fn zipf_index(&mut self, len: usize) -> usize {
        if len <= 1 {
            return 0;
        }
        // The inverse of the continuous approximation: ranks up to `x` hold ln(1 + x) of
        // the mass.
        let total = (len as f64 + 1.0).ln();
        let rank = (self.unit() * total).exp() - 1.0;
        (rank as usize).min(len - 1)
    }
}

/// Values drawn with the frequencies they were counted with.
#[derive(Debug, Clone, Default)]
pub struct Weighted<T> {
    values: Vec<T>,
    cumulative: Vec<u64>,
}

impl<T> Weighted<T> {
    /// Returns the distribution of `(value, count)` pairs; zero counts are dropped.
    pub fn from_counts(counts: impl IntoIterator<Item = (T, u64)>) -> Weighted<T> {
        let mut weighted = Weighted {
            values: Vec::new(),
            cumulative: Vec::new(),
        };
        let mut total = 0;
        for (value, count) in counts {
            if count == 0 {
                continue;
            }
            total += count;
            weighted.values.push(value);
            weighted.cumulative.push(total);
        }
        weighted
    }

    /// Returns true when nothing can be drawn.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Returns the values in the order they were given.
    pub fn values(&self) -> &[T] {
        &self.values
    }

    /// Draws a value; `None` when empty.
    pub fn draw(&self, rng: &mut SeededRng) -> Option<&T> {
        let total = *self.cumulative.last()?;
        let target = rng.below(total);
        let position = self.cumulative.partition_point(|&sum| sum <= target);
        self.values.get(position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_entity_gives_the_same_sequence_and_others_differ() {
        let first: Vec<u64> = {
            let mut rng = SeededRng::for_entity(42, "work", 7);
            (0..4).map(|_| rng.next_u64()).collect()
        };
        let again: Vec<u64> = {
            let mut rng = SeededRng::for_entity(42, "work", 7);
            (0..4).map(|_| rng.next_u64()).collect()
        };
        assert_eq!(first, again);
        let mut other = SeededRng::for_entity(42, "work", 8);
        assert_ne!(first[0], other.next_u64());
        let mut other_stream = SeededRng::for_entity(42, "person", 7);
        assert_ne!(first[0], other_stream.next_u64());
    }

    #[test]
    fn draws_stay_in_range_and_follow_the_weights() {
        let mut rng = SeededRng::for_entity(1, "test", 0);
        let weighted = Weighted::from_counts([("rare", 1), ("never", 0), ("common", 99)]);
        let num_common = (0..1000)
            .filter(|_| weighted.draw(&mut rng) == Some(&"common"))
            .count();
        assert!(num_common > 900, "{num_common}");
        for _ in 0..1000 {
            assert!(rng.zipf_index(5) < 5);
            assert!(rng.below(3) < 3);
        }
    }
}
