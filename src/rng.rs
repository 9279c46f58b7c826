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
//! - Trigger X's firing test at step t uses its firing draw t ([`Addressed::firing_draw`]): the
//!   16-bit half-word t of `trigger:X`'s region above the top 48 bits of its draw `2^30 + t`.
//!   A test is almost always decided by the half-word alone, so a block serves 32 steps.
//! - A delay range uses draw t of `delay:X`; a param's distribution consumes draws 0, 1, 2, ...
//!   of `param:<name>`.
//!
//! So variants that share a trigger share its draws (common random numbers), and adding a
//! trigger leaves every other trigger's draws untouched.
//!
//! The words are those of `rand_chacha::ChaCha8Rng` positioned with `set_stream(run)` and
//! `set_word_pos(word)` (the tests below check it), but computed here one 16-word ChaCha block at
//! a time: `ChaCha8Rng` always computes four consecutive blocks, while a run needs only one or
//! two blocks of most keys. [`Key::pass`] computes the blocks several keys or runs need together,
//! eight at a time in AVX2 lanes (four with SSE2).

use std::convert::Infallible;

use rand::SeedableRng;
use rand::rand_core::TryRng;
use rand_chacha::ChaCha8Rng;

use crate::lanes::Simd;

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

/// 16 words of ChaCha8 output.
pub type Block = [u32; 16];

/// The block (counter within the run's stream) holding draw `index` of `region`, and the
/// position of the draw's first word in that block. A draw never straddles two blocks.
#[inline]
pub fn locate(region: u64, index: u64) -> (u64, usize) {
    // Word `(region << 32) + 2 * index` of the stream, in blocks of 16 words; ChaCha's block
    // counter is 64 bits, so the block number wraps as `set_word_pos` makes it.
    ((region << 28).wrapping_add(index >> 3), 2 * (index & 7) as usize)
}

/// The draw starting at word `word` of `block`.
#[inline]
pub fn draw_at(block: &Block, word: usize) -> u64 {
    u64::from(block[word]) | (u64::from(block[word + 1]) << 32)
}

/// One ChaCha double round on the 16 words `x` (four column quarter rounds, then four diagonal
/// ones), written out so that every index is a constant and the words stay in registers.
/// `$add`, `$xor` and `$rotate` (by a constant number of bits) act on a word of one block, or on
/// the same word of several blocks at once.
macro_rules! double_round {
    ($x:ident, $rotate:path, $add:path, $xor:path) => {{
        macro_rules! quarter {
            ($a:literal, $b:literal, $c:literal, $d:literal) => {
                $x[$a] = $add($x[$a], $x[$b]);
                $x[$d] = $rotate($xor($x[$d], $x[$a]), 16);
                $x[$c] = $add($x[$c], $x[$d]);
                $x[$b] = $rotate($xor($x[$b], $x[$c]), 12);
                $x[$a] = $add($x[$a], $x[$b]);
                $x[$d] = $rotate($xor($x[$d], $x[$a]), 8);
                $x[$c] = $add($x[$c], $x[$d]);
                $x[$b] = $rotate($xor($x[$b], $x[$c]), 7);
            };
        }
        quarter!(0, 4, 8, 12);
        quarter!(1, 5, 9, 13);
        quarter!(2, 6, 10, 14);
        quarter!(3, 7, 11, 15);
        quarter!(0, 5, 10, 15);
        quarter!(1, 6, 11, 12);
        quarter!(2, 7, 8, 13);
        quarter!(3, 4, 9, 14);
    }};
}

const SIGMA: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];

/// The 16 input words of block `counter` of stream `stream` under `key`.
fn input(key: &[u32; 8], stream: u64, counter: u64) -> [u32; 16] {
    let mut input = [0u32; 16];
    input[..4].copy_from_slice(&SIGMA);
    input[4..12].copy_from_slice(key);
    input[12] = counter as u32;
    input[13] = (counter >> 32) as u32;
    input[14] = stream as u32;
    input[15] = (stream >> 32) as u32;
    input
}

/// Most blocks [`Key::pass`] computes in one pass.
pub const MAX_LANES: usize = 8;

/// The ChaCha8 key of a seed, and the block function under it.
#[derive(Clone, Debug)]
pub struct Key {
    words: [u32; 8],
    /// Blocks computed in one pass: 8 with AVX2, 4 with SSE2, 1 without SIMD.
    lanes: usize,
}

impl Key {
    /// The key of `seed`, its passes as wide as this processor allows.
    pub fn new(seed: u64) -> Self {
        Key::with_simd(seed, Simd::detect())
    }

    /// The key of `seed`, its passes computed with `simd`.
    pub fn with_simd(seed: u64, simd: Simd) -> Self {
        let bytes = ChaCha8Rng::seed_from_u64(seed).get_seed();
        Key {
            words: std::array::from_fn(|i| {
                u32::from_le_bytes([bytes[4 * i], bytes[4 * i + 1], bytes[4 * i + 2], bytes[4 * i + 3]])
            }),
            lanes: if simd.avx2() {
                8
            } else if simd.sse2() {
                4
            } else {
                1
            },
        }
    }

    /// Block `counter` of stream `stream`.
    pub fn block(&self, stream: u64, counter: u64) -> Block {
        scalar::block(&self.words, stream, counter)
    }

    /// How many blocks [`Key::pass`] computes for about the cost of one.
    pub fn lanes(&self) -> usize {
        self.lanes
    }

    /// One pass of the block function: the blocks at `at` (at most [`Key::lanes`]) into the
    /// start of `out`.
    #[inline]
    pub fn pass(&self, at: &[(u64, u64)], out: &mut [Block; MAX_LANES]) {
        debug_assert!(!at.is_empty() && at.len() <= self.lanes);
        // Spare lanes repeat the first block.
        let lane = |l: usize| at.get(l).copied().unwrap_or(at[0]);
        match self.lanes {
            #[cfg(target_arch = "x86_64")]
            8 => {
                // SAFETY: 8 lanes only with a `Simd` that allows AVX2, which only a processor
                // with AVX2 gives.
                unsafe { avx2::blocks8(&self.words, &std::array::from_fn(lane), out) }
            }
            #[cfg(target_arch = "x86_64")]
            4 => {
                let (four, _) = out.split_at_mut(4);
                let four: &mut [Block; 4] = four.try_into().expect("MAX_LANES >= 4");
                // SAFETY: SSE2 is part of the x86-64 baseline.
                unsafe { sse2::blocks4(&self.words, &std::array::from_fn(lane), four) }
            }
            _ => out[0] = self.block(at[0].0, at[0].1),
        }
    }
}

mod scalar {
    //! ChaCha8 on one block, word by word.

    use super::{Block, input};

    fn add(a: u32, b: u32) -> u32 {
        a.wrapping_add(b)
    }

    fn xor(a: u32, b: u32) -> u32 {
        a ^ b
    }

    fn rotate(v: u32, bits: u32) -> u32 {
        v.rotate_left(bits)
    }

    pub fn block(key: &[u32; 8], stream: u64, counter: u64) -> Block {
        let input = input(key, stream, counter);
        let mut x = input;
        for _ in 0..4 {
            double_round!(x, rotate, add, xor);
        }
        std::array::from_fn(|i| x[i].wrapping_add(input[i]))
    }
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    //! ChaCha8 on four blocks at once: register `x[i]` holds word `i` of the four blocks.

    use std::arch::x86_64::*;

    use super::{Block, SIGMA};

    #[target_feature(enable = "sse2")]
    #[inline]
    fn add(a: __m128i, b: __m128i) -> __m128i {
        _mm_add_epi32(a, b)
    }

    #[target_feature(enable = "sse2")]
    #[inline]
    fn xor(a: __m128i, b: __m128i) -> __m128i {
        _mm_xor_si128(a, b)
    }

    #[target_feature(enable = "sse2")]
    #[inline]
    fn rotate(v: __m128i, bits: u32) -> __m128i {
        match bits {
            16 => _mm_shufflehi_epi16::<0b10_11_00_01>(_mm_shufflelo_epi16::<0b10_11_00_01>(v)),
            12 => _mm_or_si128(_mm_slli_epi32::<12>(v), _mm_srli_epi32::<20>(v)),
            8 => _mm_or_si128(_mm_slli_epi32::<8>(v), _mm_srli_epi32::<24>(v)),
            _ => _mm_or_si128(_mm_slli_epi32::<7>(v), _mm_srli_epi32::<25>(v)),
        }
    }

    #[target_feature(enable = "sse2")]
    pub fn blocks4(key: &[u32; 8], at: &[(u64, u64); 4], out: &mut [Block; 4]) {
        // Words 0..12 (constants and key) are the same in every lane; 12..16 are the counter and
        // the stream.
        let mut input = [_mm_setzero_si128(); 16];
        for i in 0..4 {
            input[i] = _mm_set1_epi32(SIGMA[i] as i32);
        }
        for i in 0..8 {
            input[4 + i] = _mm_set1_epi32(key[i] as i32);
        }
        let low = |v: u64| v as u32 as i32;
        let high = |v: u64| (v >> 32) as u32 as i32;
        let [a, b, c, d] = *at;
        input[12] = _mm_setr_epi32(low(a.1), low(b.1), low(c.1), low(d.1));
        input[13] = _mm_setr_epi32(high(a.1), high(b.1), high(c.1), high(d.1));
        input[14] = _mm_setr_epi32(low(a.0), low(b.0), low(c.0), low(d.0));
        input[15] = _mm_setr_epi32(high(a.0), high(b.0), high(c.0), high(d.0));
        let mut x = input;
        for _ in 0..4 {
            double_round!(x, rotate, add, xor);
        }
        // Transpose words i..i+4 of the four lanes into four per-lane vectors, then read them out
        // as pairs of words.
        for i in (0..16).step_by(4) {
            let w = [
                _mm_add_epi32(x[i], input[i]),
                _mm_add_epi32(x[i + 1], input[i + 1]),
                _mm_add_epi32(x[i + 2], input[i + 2]),
                _mm_add_epi32(x[i + 3], input[i + 3]),
            ];
            let t0 = _mm_unpacklo_epi32(w[0], w[1]);
            let t1 = _mm_unpacklo_epi32(w[2], w[3]);
            let t2 = _mm_unpackhi_epi32(w[0], w[1]);
            let t3 = _mm_unpackhi_epi32(w[2], w[3]);
            let per_lane = [
                _mm_unpacklo_epi64(t0, t1),
                _mm_unpackhi_epi64(t0, t1),
                _mm_unpacklo_epi64(t2, t3),
                _mm_unpackhi_epi64(t2, t3),
            ];
            for (lane, v) in per_lane.into_iter().enumerate() {
                let low = _mm_cvtsi128_si64(v) as u64;
                let high = _mm_cvtsi128_si64(_mm_unpackhi_epi64(v, v)) as u64;
                out[lane][i..i + 4].copy_from_slice(&[
                    low as u32,
                    (low >> 32) as u32,
                    high as u32,
                    (high >> 32) as u32,
                ]);
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    //! ChaCha8 on eight blocks at once: register `x[i]` holds word `i` of the eight blocks.

    use std::arch::x86_64::*;

    use super::{Block, SIGMA};

    #[target_feature(enable = "avx2")]
    #[inline]
    fn add(a: __m256i, b: __m256i) -> __m256i {
        _mm256_add_epi32(a, b)
    }

    #[target_feature(enable = "avx2")]
    #[inline]
    fn xor(a: __m256i, b: __m256i) -> __m256i {
        _mm256_xor_si256(a, b)
    }

    #[target_feature(enable = "avx2")]
    #[inline]
    fn rotate(v: __m256i, bits: u32) -> __m256i {
        // Rotations by whole bytes are byte shuffles within each word.
        #[rustfmt::skip]
        let by16 = _mm256_setr_epi8(
            2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13,
            2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13,
        );
        #[rustfmt::skip]
        let by8 = _mm256_setr_epi8(
            3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14,
            3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14,
        );
        match bits {
            16 => _mm256_shuffle_epi8(v, by16),
            12 => _mm256_or_si256(_mm256_slli_epi32::<12>(v), _mm256_srli_epi32::<20>(v)),
            8 => _mm256_shuffle_epi8(v, by8),
            _ => _mm256_or_si256(_mm256_slli_epi32::<7>(v), _mm256_srli_epi32::<25>(v)),
        }
    }

    /// Transposes eight vectors of eight words: lane `l` of `rows[i]` ends up in lane `i` of
    /// `rows[l]`. Plain loops and indices, no closures: those would not be compiled with AVX2.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn transpose(rows: &mut [__m256i; 8]) {
        let mut t = [_mm256_setzero_si256(); 8];
        for k in 0..4 {
            t[2 * k] = _mm256_unpacklo_epi32(rows[2 * k], rows[2 * k + 1]);
            t[2 * k + 1] = _mm256_unpackhi_epi32(rows[2 * k], rows[2 * k + 1]);
        }
        // u[k], k < 4: rows 0..4 of lanes (k, k + 4); u[4 + k]: rows 4..8 of the same lanes.
        let mut u = [_mm256_setzero_si256(); 8];
        for half in 0..2 {
            let t = &t[4 * half..];
            u[4 * half] = _mm256_unpacklo_epi64(t[0], t[2]);
            u[4 * half + 1] = _mm256_unpackhi_epi64(t[0], t[2]);
            u[4 * half + 2] = _mm256_unpacklo_epi64(t[1], t[3]);
            u[4 * half + 3] = _mm256_unpackhi_epi64(t[1], t[3]);
        }
        for l in 0..4 {
            rows[l] = _mm256_permute2x128_si256::<0x20>(u[l], u[4 + l]);
            rows[4 + l] = _mm256_permute2x128_si256::<0x31>(u[l], u[4 + l]);
        }
    }

    #[target_feature(enable = "avx2")]
    pub fn blocks8(key: &[u32; 8], at: &[(u64, u64); 8], out: &mut [Block; 8]) {
        // Words 0..12 (constants and key) are the same in every lane; 12..16 are the counter and
        // the stream.
        let mut input = [_mm256_setzero_si256(); 16];
        for i in 0..4 {
            input[i] = _mm256_set1_epi32(SIGMA[i] as i32);
        }
        for i in 0..8 {
            input[4 + i] = _mm256_set1_epi32(key[i] as i32);
        }
        let mut lanes = [[0i32; 8]; 4];
        for (l, &(stream, counter)) in at.iter().enumerate() {
            lanes[0][l] = counter as u32 as i32;
            lanes[1][l] = (counter >> 32) as u32 as i32;
            lanes[2][l] = stream as u32 as i32;
            lanes[3][l] = (stream >> 32) as u32 as i32;
        }
        for (k, w) in lanes.iter().enumerate() {
            input[12 + k] = _mm256_setr_epi32(w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]);
        }
        let mut x = input;
        for _ in 0..4 {
            double_round!(x, rotate, add, xor);
        }
        for half in 0..2 {
            let mut rows = [_mm256_setzero_si256(); 8];
            for k in 0..8 {
                rows[k] = _mm256_add_epi32(x[8 * half + k], input[8 * half + k]);
            }
            transpose(&mut rows);
            for lane in 0..8 {
                // SAFETY: writes 8 words of `out[lane]`, unaligned.
                unsafe { _mm256_storeu_si256(out[lane][8 * half..].as_mut_ptr().cast(), rows[lane]) };
            }
        }
    }
}

/// A cursor on the seed's ChaCha8 stream, positioned per draw. It keeps the last block it
/// computed, so reading the draws of one key in order costs one block per 8 draws; the lockstep
/// engine uses [`Key::pass`] instead, which batches.
#[derive(Clone, Debug)]
pub struct Addressed {
    key: Key,
    /// (run, block counter) of `block`.
    at: Option<(u64, u64)>,
    block: Block,
}

impl Addressed {
    pub fn new(seed: u64) -> Self {
        Addressed {
            key: Key::new(seed),
            at: None,
            block: [0; 16],
        }
    }

    /// Draw `index` of `region` in run `run`, as a raw u64.
    #[inline]
    pub fn draw(&mut self, run: u64, region: u64, index: u64) -> u64 {
        let (counter, word) = locate(region, index);
        if self.at != Some((run, counter)) {
            self.block = self.key.block(run, counter);
            self.at = Some((run, counter));
        }
        draw_at(&self.block, word)
    }

    /// Firing draw `t` of `region` in run `run`, the draw of a firing test at step `t`: the
    /// half-word `t` of the region (its 16 high bits) above the top 48 bits of draw
    /// `LOW_DRAWS + t` (its low bits). A trigger's draws for 32 steps share a block.
    pub fn firing_draw(&mut self, run: u64, region: u64, t: u64) -> u64 {
        let high = self.half_word(run, region, t);
        u64::from(high) << 48 | self.draw(run, region, LOW_DRAWS + t) >> 16
    }

    /// Whether the firing test at step `t` passes with probability `p` in [0, 1]:
    /// `u < p` for `u`, firing draw `t` as a uniform on [0, 1). The low bits are drawn only
    /// when the half-word leaves the test undecided ([`tests_below`]), about once in 65,536.
    pub fn fires(&mut self, run: u64, region: u64, t: u64, p: f64) -> bool {
        if p <= 0.0 {
            return false;
        }
        if p >= 1.0 {
            return true;
        }
        let threshold = threshold(p);
        match self.half_word(run, region, t).cmp(&((threshold >> 48) as u16)) {
            std::cmp::Ordering::Less => true,
            std::cmp::Ordering::Greater => false,
            std::cmp::Ordering::Equal => tie_passes(self.draw(run, region, LOW_DRAWS + t), threshold),
        }
    }

    /// Half-word `t` of `region` in run `run`.
    fn half_word(&mut self, run: u64, region: u64, t: u64) -> u16 {
        let counter = locate_test(region, t);
        if self.at != Some((run, counter)) {
            self.block = self.key.block(run, counter);
            self.at = Some((run, counter));
        }
        half_word(&self.block, (t % BLOCK_TESTS) as usize)
    }

    /// Draw `index` of `region` in run `run`, uniform on [0, 1).
    #[inline]
    pub fn uniform(&mut self, run: u64, region: u64, index: u64) -> f64 {
        unit_f64(self.draw(run, region, index))
    }

    /// A generator positioned at the start of a region, for samplers that consume several
    /// draws (Beta).
    pub fn sequence(&self, run: u64, region: u64) -> Sequence<'_> {
        let (counter, _) = locate(region, 0);
        Sequence::new(&self.key, run, counter, self.key.block(run, counter))
    }
}

/// Draws in a block.
pub const BLOCK_DRAWS: u64 = 8;

/// Firing tests in a block: a test's high 16 bits are a half-word of the region.
pub const BLOCK_TESTS: u64 = 32;

/// The draw of a region where the low 48 bits of its firing draws start: its second half,
/// which the half-words of the longest horizon (`MAX_STEPS`) never reach.
pub const LOW_DRAWS: u64 = 1 << 30;

/// The low 48 bits of a u64.
const LOW_BITS: u64 = (1 << 48) - 1;

/// The block (counter within the run's stream) holding the half-word of firing test `t` of
/// `region`: half-word `t` of the region is the low (even `t`) or high (odd `t`) half of its
/// word `t / 2`.
#[inline]
pub fn locate_test(region: u64, t: u64) -> u64 {
    (region << 28).wrapping_add(t / BLOCK_TESTS)
}

/// Half-word `j` (0 to 31) of `block`: the low half of word `j / 2` for even `j`, else its
/// high half; in memory, on a little-endian machine, the block's 16-bit numbers in order.
#[inline]
pub fn half_word(block: &Block, j: usize) -> u16 {
    (block[j / 2] >> (16 * (j % 2))) as u16
}

/// The firing tests of a block with `threshold` ([`threshold`]), as bits (bit `j` for
/// half-word `j`): those its half-word decides to pass (`below`), and those it leaves to the
/// low 48 bits, because it equals the threshold's top 16 bits (`tied`).
///
/// Why that is exact: a firing draw is `x = h << 48 | l` with `l < 2^48`. If `h < H`, the
/// threshold's top 16 bits, then `x < (h + 1) << 48 <= threshold`; if `h > H`, then
/// `x >= (H + 1) << 48 > threshold`; if `h = H`, `x < threshold` exactly when
/// `l < threshold & (2^48 - 1)`.
#[inline]
pub fn tests_below(block: &Block, threshold: u64) -> (u32, u32) {
    let high = (threshold >> 48) as u16;
    let (mut below, mut tied) = (0, 0);
    for j in 0..BLOCK_TESTS as usize {
        let h = half_word(block, j);
        below |= u32::from(h < high) << j;
        tied |= u32::from(h == high) << j;
    }
    (below, tied)
}

/// Whether a tied firing test passes: the low 48 bits of the firing draw, from `low` (draw
/// `LOW_DRAWS + t` of the region), against those of the threshold.
#[inline]
pub fn tie_passes(low: u64, threshold: u64) -> bool {
    low >> 16 < threshold & LOW_BITS
}

/// The threshold of a probability `p` in [0, 1): a draw `x` passes the firing test `u < p`
/// (with `u = (x >> 11) * 2^-53`) exactly when `x < threshold(p)`.
///
/// Why: `u < p` is `m < p * 2^53` for the integer `m = x >> 11`; scaling by a power of two is
/// exact, and an integer is below a real `s` exactly when it is below `ceil(s)`. `m < k` is
/// `x < k << 11`, which fits in a u64 because `p < 1` makes `k <= 2^53 - 1`.
#[inline]
pub fn threshold(p: f64) -> u64 {
    debug_assert!((0.0..1.0).contains(&p));
    let scaled = p * (1u64 << 53) as f64;
    // `ceil` by hand: `f64::ceil` is a library call on x86-64 without SSE4.1. `scaled` is in
    // [0, 2^53), so the conversion truncates exactly and converts back exactly; through i64,
    // which x86-64 converts in one instruction each way (u64 takes a branchy sequence).
    let floor = scaled as i64;
    ((floor + i64::from((floor as f64) < scaled)) as u64) << 11
}

/// The words of a stream from the start of a block on, as a `rand` generator: what
/// `ChaCha8Rng` positioned there returns, for samplers that consume several draws.
#[derive(Debug)]
pub struct Sequence<'a> {
    key: &'a Key,
    run: u64,
    counter: u64,
    block: Block,
    /// The next word of `block` to read.
    word: usize,
}

impl<'a> Sequence<'a> {
    /// The words of stream `run` from block `counter` on, whose words are `block`.
    pub fn new(key: &'a Key, run: u64, counter: u64, block: Block) -> Self {
        Sequence {
            key,
            run,
            counter,
            block,
            word: 0,
        }
    }

    fn next_word(&mut self) -> u32 {
        if self.word == 16 {
            self.counter = self.counter.wrapping_add(1);
            self.block = self.key.block(self.run, self.counter);
            self.word = 0;
        }
        self.word += 1;
        self.block[self.word - 1]
    }
}

impl TryRng for Sequence<'_> {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.next_word())
    }

    /// Low word first, as `ChaCha8Rng`.
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let low = self.next_word();
        Ok(u64::from(low) | (u64::from(self.next_word()) << 32))
    }

    /// Whole words in order, little-endian; a partial last word is consumed whole, as
    /// `ChaCha8Rng` does.
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(4) {
            let bytes = self.next_word().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use rand::rand_core::Rng;

    use super::*;

    /// Draw `index` of `region` as the protocol defines it, with `rand_chacha` itself.
    fn reference_draw(seed: u64, run: u64, region: u64, index: u64) -> u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(run);
        rng.set_word_pos(((region as u128) << 32) + 2 * index as u128);
        rng.next_u64()
    }

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
    fn draws_are_those_of_rand_chacha() {
        let regions = [0, 1, region("trigger:x"), region("param:p"), 0xffff_ffff];
        let mut addressed = Addressed::new(2025);
        for run in [0, 1, 19_999, u64::MAX] {
            for region in regions {
                for index in [0, 1, 7, 8, 35, 36, 10_000] {
                    let expected = reference_draw(2025, run, region, index);
                    assert_eq!(
                        addressed.draw(run, region, index),
                        expected,
                        "run {run} region {region} index {index}"
                    );
                }
            }
        }
    }

    #[test]
    fn locate_is_the_word_position_in_blocks() {
        for region in [0, 1, 0xffff_ffff, u64::MAX] {
            for index in [0, 1, 7, 8, 9, 36, u64::MAX / 2, u64::MAX] {
                let word = ((region as u128) << 32) + 2 * index as u128;
                assert_eq!(locate(region, index), ((word / 16) as u64, (word % 16) as usize));
            }
        }
    }

    #[test]
    fn simd_blocks_equal_scalar_blocks() {
        let key = Key::new(99);
        let at: [(u64, u64); 8] = [
            (0, 0),
            (5, 1 << 40),
            (u64::MAX, 3),
            (123_456_789, 0xdead_beef_1234),
            (1, u64::MAX),
            (2, 7),
            (3, 8),
            (1 << 63, 1 << 33),
        ];
        let expected = at.map(|(stream, counter)| key.block(stream, counter));
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: SSE2 is part of the x86-64 baseline.
            let mut four = [[0; 16]; 4];
            unsafe { sse2::blocks4(&key.words, &[at[0], at[1], at[2], at[3]], &mut four) };
            assert_eq!(four[..], expected[..4]);
            if std::arch::is_x86_feature_detected!("avx2") {
                let mut eight = [[0; 16]; 8];
                // SAFETY: checked just above.
                unsafe { avx2::blocks8(&key.words, &at, &mut eight) };
                assert_eq!(eight, expected);
            }
        }
    }

    #[test]
    fn passes_compute_the_blocks_asked_for() {
        let regions: Vec<u64> = (0..6).map(|c| region(&format!("trigger:{c}"))).collect();
        // Every pass width a processor may have: scalar, SSE2, AVX2 (if this one has it); full
        // passes and partial ones, whose spare lanes must not spill into the blocks asked for.
        for simd in Simd::available() {
            let key = Key::with_simd(11, simd);
            let lanes = key.lanes();
            for count in 1..=lanes {
                let at: Vec<(u64, u64)> = (0..count)
                    .map(|k| (4 + k as u64 % 2, locate(regions[k % 6], 3 * k as u64).0))
                    .collect();
                let mut out = [[0; 16]; MAX_LANES];
                key.pass(&at, &mut out);
                for (k, &(run, counter)) in at.iter().enumerate() {
                    for j in 0..BLOCK_DRAWS {
                        let index = (counter - (regions[k % 6] << 28)) * BLOCK_DRAWS + j;
                        let expected = reference_draw(11, run, regions[k % 6], index);
                        assert_eq!(
                            draw_at(&out[k], 2 * j as usize),
                            expected,
                            "{lanes} lanes, block {k} of {count}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn thresholds_decide_exactly_as_the_uniforms() {
        // Draws at and around the edges of every probability tested.
        let mut draws: Vec<u64> = vec![0, 1, 2047, 2048, 2049, u64::MAX, u64::MAX - 2048, 1 << 63];
        let probabilities = [
            0.0,
            f64::MIN_POSITIVE,
            1e-300,
            0.1,
            0.3,
            0.5,
            0.75,
            1.0 - f64::EPSILON / 2.0,
        ];
        for p in probabilities {
            let k = threshold(p);
            draws.extend([
                k.wrapping_sub(1),
                k,
                k.wrapping_add(1),
                k.wrapping_add(2048),
                k.wrapping_sub(2049),
            ]);
        }
        let mut random = Addressed::new(3);
        draws.extend((0..10_000).map(|i| random.draw(0, 0, i)));
        for p in probabilities {
            for &x in &draws {
                assert_eq!(x < threshold(p), unit_f64(x) < p, "x = {x:#x}, p = {p:e}");
            }
        }
    }

    /// Firing draw `t` as the protocol defines it, with `rand_chacha` itself: half-word `t` of
    /// the region above the top 48 bits of draw `2^30 + t`.
    fn reference_firing_draw(seed: u64, run: u64, region: u64, t: u64) -> u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(run);
        rng.set_word_pos(((region as u128) << 32) + u128::from(t / 2));
        let high = (rng.next_u32() >> (16 * (t % 2))) & 0xffff;
        u64::from(high) << 48 | reference_draw(seed, run, region, LOW_DRAWS + t) >> 16
    }

    #[test]
    fn firing_draws_are_those_of_rand_chacha() {
        let mut addressed = Addressed::new(2025);
        for run in [0, 1, 19_999, u64::MAX] {
            for region in [0, region("trigger:x"), 0xffff_ffff] {
                for t in [0, 1, 2, 31, 32, 33, 36, 10_000] {
                    assert_eq!(
                        addressed.firing_draw(run, region, t),
                        reference_firing_draw(2025, run, region, t),
                        "run {run} region {region} step {t}"
                    );
                }
            }
        }
    }

    /// `fires` and `tests_below` decide as `u < p` on the whole firing draw, also where the
    /// half-word ties with the threshold's top 16 bits: probabilities are chosen to tie with
    /// the draws, on both sides of the low bits, and away from them.
    #[test]
    fn firing_tests_decide_as_the_whole_draw() {
        let region = region("trigger:x");
        let mut addressed = Addressed::new(5);
        let mut ties = 0;
        for run in 0..40 {
            let block = Key::new(5).block(run, locate_test(region, 0));
            for t in 0..BLOCK_TESTS {
                let x = addressed.firing_draw(run, region, t);
                let probabilities = [
                    unit_f64(x),
                    unit_f64(x) + 2f64.powi(-53),
                    unit_f64(x) - 2f64.powi(-53),
                    unit_f64(x & !LOW_BITS),
                    unit_f64(x | LOW_BITS),
                    unit_f64(x.wrapping_add(1 << 48)),
                    0.5,
                    0.0,
                    1.0,
                ];
                for p in probabilities.into_iter().filter(|p| (0.0..=1.0).contains(p)) {
                    let expected = unit_f64(x) < p;
                    assert_eq!(addressed.fires(run, region, t, p), expected, "run {run} step {t} p {p}");
                    if p < 1.0 {
                        let (below, tied) = tests_below(&block, threshold(p));
                        let j = t as usize;
                        ties += tied >> j & 1;
                        let decided = below >> j & 1 == 1
                            || tied >> j & 1 == 1
                                && tie_passes(addressed.draw(run, region, LOW_DRAWS + t), threshold(p));
                        assert_eq!(decided, expected, "run {run} step {t} p {p}");
                        assert_eq!(u64::from(half_word(&block, j)), x >> 48);
                    }
                }
            }
        }
        // The probabilities near `x` tie in most tests: the tie path is exercised.
        assert!(ties > 2_000, "{ties} ties");
    }

    #[test]
    fn sequence_is_the_stream_of_rand_chacha() {
        let a = Addressed::new(1);
        let r = region("param:p");
        let mut seq = a.sequence(2, r);
        let mut reference = ChaCha8Rng::seed_from_u64(1);
        reference.set_stream(2);
        reference.set_word_pos((r as u128) << 32);
        assert_eq!(seq.next_u64(), a.clone().draw(2, r, 0));
        reference.next_u64();
        // Odd reads cross block boundaries mid-u64.
        for i in 0..100 {
            match i % 3 {
                0 => assert_eq!(seq.next_u32(), reference.next_u32()),
                1 => assert_eq!(seq.next_u64(), reference.next_u64()),
                _ => {
                    let (mut x, mut y) = ([0u8; 7], [0u8; 7]);
                    seq.fill_bytes(&mut x);
                    reference.fill_bytes(&mut y);
                    assert_eq!(x, y);
                }
            }
        }
    }
}
