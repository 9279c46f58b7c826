//! The lockstep engine's work over the 64 lanes of a batch, with AVX2 where the processor has
//! it: which lanes' probabilities changed ([`lanes_differing`]), which firing tests of a lane's
//! block pass ([`find_passing`]), and a step's answers for all lanes ([`bit_of_each`]). In:
//! lanes of probabilities and blocks, and the job's [`Simd`]. Out: lane masks and per-lane
//! bits. Every AVX2 form gives exactly what its portable form gives (tested below).

use crate::lanes::{LANES, Lanes, Simd};
use crate::rng::{self, Block};
use crate::simulate::collector::lanes_of;

/// The lanes where `a` and `b` differ bit for bit.
#[inline]
pub(super) fn lanes_differing(a: &Lanes, b: &Lanes, simd: Simd) -> u64 {
    #[cfg(target_arch = "x86_64")]
    if simd.avx2() {
        // SAFETY: a `Simd` allows AVX2 only on a processor that has it.
        return unsafe { lanes_differing_avx2(a, b) };
    }
    let _ = simd;
    lanes_differing_portable(a, b)
}

fn lanes_differing_portable(a: &Lanes, b: &Lanes) -> u64 {
    a.iter()
        .zip(b)
        .enumerate()
        .fold(0, |mask, (l, (x, y))| mask | u64::from(x.to_bits() != y.to_bits()) << l)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn lanes_differing_avx2(a: &Lanes, b: &Lanes) -> u64 {
    use std::arch::x86_64::{__m256i, _mm256_castsi256_pd, _mm256_cmpeq_epi64, _mm256_loadu_si256, _mm256_movemask_pd};
    let mut same = 0;
    for k in 0..LANES / 4 {
        // SAFETY: lanes `4k..4k + 4` are in both arrays; the loads are unaligned.
        let (x, y) = unsafe {
            (
                _mm256_loadu_si256(a.as_ptr().add(4 * k).cast::<__m256i>()),
                _mm256_loadu_si256(b.as_ptr().add(4 * k).cast::<__m256i>()),
            )
        };
        same |= u64::from(_mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpeq_epi64(x, y))) as u32) << (4 * k);
    }
    !same
}

/// Bit `j` of each word: bit `l` of the result is bit `j` of `words[l]`.
#[inline]
pub(super) fn bit_of_each(words: &[u32; LANES], j: usize, simd: Simd) -> u64 {
    #[cfg(target_arch = "x86_64")]
    if simd.avx2() {
        // SAFETY: a `Simd` allows AVX2 only on a processor that has it.
        return unsafe { bit_of_each_avx2(words, j) };
    }
    let _ = simd;
    bit_of_each_portable(words, j)
}

fn bit_of_each_portable(words: &[u32; LANES], j: usize) -> u64 {
    words
        .iter()
        .enumerate()
        .fold(0, |mask, (l, &word)| mask | u64::from(word >> j & 1) << l)
}

/// [`bit_of_each`] 8 words per instruction: shifting left by `31 - j` moves bit `j` to the
/// sign bit, which `movemask` reads.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn bit_of_each_avx2(words: &[u32; LANES], j: usize) -> u64 {
    use std::arch::x86_64::{
        __m256i, _mm_cvtsi32_si128, _mm256_castsi256_ps, _mm256_loadu_si256, _mm256_movemask_ps, _mm256_sll_epi32,
    };
    let shift = _mm_cvtsi32_si128(31 - j as i32);
    let mut mask = 0;
    for k in 0..LANES / 8 {
        // SAFETY: `words` holds 64 words, so 8 from `8 * k` (k < 8); the load is unaligned.
        let v = unsafe { _mm256_loadu_si256(words.as_ptr().add(8 * k).cast::<__m256i>()) };
        mask |= u64::from(_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_sll_epi32(v, shift))) as u8) << (8 * k);
    }
    mask
}

/// Sets `passing[l]`, for the lanes `l` of `lanes`, to the firing tests of `blocks[l]` that pass
/// with probability `p[l]`, which is in (0, 1) ([`rng::tests_below`] with its
/// [`rng::threshold`]); gives the lanes among them with a test the
/// half-word leaves undecided.
pub(super) fn find_passing(
    blocks: &[Block; LANES],
    p: &Lanes,
    passing: &mut [u32; LANES],
    lanes: u64,
    simd: Simd,
) -> u64 {
    #[cfg(target_arch = "x86_64")]
    if simd.avx2() {
        // SAFETY: a `Simd` allows AVX2 only on a processor that has it.
        return unsafe { find_passing_avx2(blocks, p, passing, lanes) };
    }
    let _ = simd;
    let mut tied = 0;
    for lane in lanes_of(lanes) {
        let (below, ties) = rng::tests_below(&blocks[lane], rng::threshold(p[lane]));
        passing[lane] = below;
        tied |= u64::from(ties != 0) << lane;
    }
    tied
}

/// [`find_passing`] sixteen tests per instruction.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn find_passing_avx2(blocks: &[Block; LANES], p: &Lanes, passing: &mut [u32; LANES], lanes: u64) -> u64 {
    let mut tied = 0;
    for lane in lanes_of(lanes) {
        let (below, ties) = tests_below_avx2(&blocks[lane], rng::threshold(p[lane]));
        passing[lane] = below;
        tied |= u64::from(ties != 0) << lane;
    }
    tied
}

/// [`rng::tests_below`] sixteen half-words per instruction. The block's bytes are its 32
/// half-words in order (little-endian); AVX2 compares signed 16-bit numbers, so both sides are
/// offset by 2^15 (the sign bit flipped), which keeps their order unsigned. `packs` narrows the
/// 16-bit answers to bytes, a 64-bit quarter at a time across the two inputs, and the permute
/// puts the quarters back in order.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn tests_below_avx2(block: &Block, threshold: u64) -> (u32, u32) {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi16, _mm256_cmpgt_epi16, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_packs_epi16,
        _mm256_permute4x64_epi64, _mm256_set1_epi16, _mm256_xor_si256,
    };
    let sign = _mm256_set1_epi16(i16::MIN);
    let limit = _mm256_xor_si256(_mm256_set1_epi16((threshold >> 48) as u16 as i16), sign);
    // SAFETY: `block` holds 16 words, so 8 from `8 * k` (k < 2); the loads are unaligned.
    let (low, high) = unsafe {
        (
            _mm256_xor_si256(_mm256_loadu_si256(block.as_ptr().cast::<__m256i>()), sign),
            _mm256_xor_si256(_mm256_loadu_si256(block.as_ptr().add(8).cast::<__m256i>()), sign),
        )
    };
    let bits = |a: __m256i, b: __m256i| {
        _mm256_movemask_epi8(_mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_packs_epi16(a, b))) as u32
    };
    (
        bits(_mm256_cmpgt_epi16(limit, low), _mm256_cmpgt_epi16(limit, high)),
        bits(_mm256_cmpeq_epi16(limit, low), _mm256_cmpeq_epi16(limit, high)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dispatched helpers (AVX2 on this processor, if it has it) agree with their portable
    /// forms, which a processor without AVX2 runs.
    #[test]
    fn simd_helpers_agree_with_their_portable_forms() {
        let specials = [0.0, -0.0, 1.0, f64::NAN, -f64::NAN, f64::INFINITY, 0.5, 1e-300];
        let a: Lanes = std::array::from_fn(|l| specials[l % specials.len()]);
        for flip in [0u64, 1, 1 << 63, 0x5555_0000_ffff_0001, u64::MAX] {
            let b: Lanes = std::array::from_fn(|l| {
                if flip >> l & 1 == 1 {
                    specials[(l + 3) % specials.len()]
                } else {
                    a[l]
                }
            });
            let expected = lanes_differing_portable(&a, &b);
            for simd in Simd::available() {
                assert_eq!(lanes_differing(&a, &b, simd), expected, "{simd}: flip {flip:#x}");
            }
            // -0 and 0, and NaNs of other signs, differ bit for bit.
            assert_eq!(
                expected,
                (0..LANES)
                    .filter(|&l| a[l].to_bits() != b[l].to_bits())
                    .fold(0, |m, l| m | 1 << l)
            );
        }
        // Half-words on either side of thresholds with the top bit set and clear, and equal to
        // their top 16 bits.
        let halves: [u16; 32] = std::array::from_fn(|j| match j % 8 {
            0 => 0,
            1 => 0x8000,
            2 => 0x7fff,
            3 => 0xffff,
            4 => 0x5000,
            5 => 3,
            6 => 0x4000,
            _ => 0x8001 + j as u16,
        });
        let block: Block = std::array::from_fn(|w| u32::from(halves[2 * w]) | u32::from(halves[2 * w + 1]) << 16);
        for high in [0u64, 1, 4, 0x4000, 0x8000, 0x8001, 0x8005, 0x5000, 0xffff] {
            for threshold in [
                high << 48,
                high << 48 | 0x1234_5678_9800,
                high << 48 | ((1 << 48) - 2048),
            ] {
                let (below, tied) = rng::tests_below(&block, threshold);
                #[cfg(target_arch = "x86_64")]
                if Simd::detect().avx2() {
                    // SAFETY: this processor has AVX2.
                    assert_eq!(
                        unsafe { tests_below_avx2(&block, threshold) },
                        (below, tied),
                        "threshold {threshold:#x}"
                    );
                }
                for (j, &half) in halves.iter().enumerate() {
                    assert_eq!(rng::half_word(&block, j), half);
                    assert_eq!(
                        below >> j & 1,
                        u32::from(u64::from(half) < high),
                        "half-word {j} below {high:#x}"
                    );
                    assert_eq!(
                        tied >> j & 1,
                        u32::from(u64::from(half) == high),
                        "half-word {j} tied with {high:#x}"
                    );
                }
            }
        }
        let words: [u32; LANES] = std::array::from_fn(|l| (l as u32).wrapping_mul(0x9e37_79b9) ^ 0xa5a5_5a5a);
        for j in 0..32 {
            let expected = bit_of_each_portable(&words, j);
            for simd in Simd::available() {
                assert_eq!(bit_of_each(&words, j, simd), expected, "{simd}: bit {j}");
            }
            for (l, word) in words.iter().enumerate() {
                assert_eq!(expected >> l & 1, u64::from(word >> j & 1), "bit {j} of word {l}");
            }
        }
    }
}
