//! Random-number addressing: every draw has a stable address, never "the next number".
//!
//! In: a seed, a run index, a key (`trigger:<id>`, `delay:<id>`, `param:<name>`) and a position.
//! Out: uniform numbers. The protocol, exactly (docs/determinism.md has the long form):
//!
//! - The ChaCha8 key is `ChaCha8Rng::seed_from_u64(seed)` (rand_core 0.10's PCG32 expansion).
//! - The stream (ChaCha nonce) is the run index.
//! - A key owns the region of the stream starting at 32-bit word `region(key) << 32`, where
//!   `region(key)` is the upper 32 bits of the 64-bit FNV-1a hash of the key's UTF-8 bytes.
//! - Draw `i` of a key is the little-endian u64 made of words `2i` and `2i + 1` of its region;
//!   as a uniform on [0, 1) it is `(x >> 11) * 2^-53`.
//! - Trigger X's firing test at step t uses draw t of `trigger:X`; a delay range uses draw t of
//!   `delay:X`; a param's distribution consumes draws 0, 1, 2, ... of `param:<name>`.
//!
//! So variants that share a trigger share its draws (common random numbers), and adding a
//! trigger leaves every other trigger's draws untouched.

use rand::SeedableRng;
use rand::rand_core::Rng;
use rand_chacha::ChaCha8Rng;

/// The region index of a key: upper 32 bits of FNV-1a 64.
pub fn region(key: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash >> 32
}

#[inline]
pub fn unit_f64(x: u64) -> f64 {
    (x >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A cursor on the seed's ChaCha8 key, positioned per draw. Reading the draws of one key in
/// order is cheap (the buffer of 32 draws is reused); jumping costs one buffer refill, so
/// `simulate` keeps one cursor per trigger.
#[derive(Clone)]
pub struct Addressed {
    rng: ChaCha8Rng,
    /// The address the next sequential `next_u64` would read, to skip repositioning.
    next: Option<(u64, u64, u64)>,
}

impl Addressed {
    pub fn new(seed: u64) -> Self {
        Addressed {
            rng: ChaCha8Rng::seed_from_u64(seed),
            next: None,
        }
    }

    /// Draw `index` of `region` in run `run`, as a raw u64.
    #[inline]
    pub fn draw(&mut self, run: u64, region: u64, index: u64) -> u64 {
        if self.next != Some((run, region, index)) {
            // A block-aligned position only marks the buffer stale, so changing the stream
            // after it does not refill it; the final positioning refills once.
            self.rng.set_word_pos(0);
            self.rng.set_stream(run);
            self.rng.set_word_pos(((region as u128) << 32) + 2 * index as u128);
        }
        self.next = Some((run, region, index + 1));
        self.rng.next_u64()
    }

    /// Draw `index` of `region` in run `run`, uniform on [0, 1).
    #[inline]
    pub fn uniform(&mut self, run: u64, region: u64, index: u64) -> f64 {
        unit_f64(self.draw(run, region, index))
    }

    /// A generator positioned at the start of a region, for samplers that consume several
    /// draws (Beta).
    pub fn sequence(&self, run: u64, region: u64) -> ChaCha8Rng {
        let mut rng = self.rng.clone();
        rng.set_stream(run);
        rng.set_word_pos((region as u128) << 32);
        rng
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_matches_reference_vectors() {
        // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c.
        assert_eq!(region("a"), 0xaf63dc4c);
        assert_eq!(region(""), 0xcbf29ce4);
    }

    #[test]
    fn draws_depend_on_address_not_order() {
        let mut a = Addressed::new(7);
        let x = a.draw(3, region("trigger:x"), 5);
        let _ = a.draw(9, region("trigger:y"), 1);
        let mut b = Addressed::new(7);
        let _ = b.draw(3, region("trigger:x"), 4);
        assert_eq!(b.draw(3, region("trigger:x"), 5), x);
        assert_eq!(Addressed::new(7).draw(3, region("trigger:x"), 5), x);
        assert_ne!(Addressed::new(8).draw(3, region("trigger:x"), 5), x);
    }

    #[test]
    fn sequence_starts_at_draw_zero() {
        let a = Addressed::new(1);
        let mut seq = a.sequence(2, region("param:p"));
        assert_eq!(seq.next_u64(), a.clone().draw(2, region("param:p"), 0));
    }
}
