//! Lanes: the batch layout the lockstep engine runs on.
//!
//! In: one value per lane of a batch of [`LANES`] runs ([`Lanes`]) and an [`Interval`]. Out: a
//! 64-bit mask, bit `l` for lane `l`, of the lanes whose value lies in the interval
//! ([`lanes_in`], four lanes per instruction where the processor has AVX2).

/// Runs the simulation steps together in lockstep, one lane each: bit `l` of a 64-bit mask
/// is lane `l`.
pub const LANES: usize = 64;
/// A value in every lane of a batch.
pub type Lanes = [f64; LANES];

/// The lanes where `holds` is true of a value: bit `l` for lane `l`.
#[inline]
pub(crate) fn lanes_where(values: &Lanes, holds: impl Fn(f64) -> bool) -> u64 {
    let mut mask = 0;
    for (k, chunk) in values.chunks_exact(8).enumerate() {
        let mut byte = 0u8;
        for (j, &v) in chunk.iter().enumerate() {
            byte |= u8::from(holds(v)) << j;
        }
        mask |= u64::from(byte) << (8 * k);
    }
    mask
}

/// The lanes whose value lies in `interval` (NaN in none): bit `l` for lane `l`.
#[inline]
pub fn lanes_in(values: &Lanes, interval: Interval) -> u64 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2.
        return unsafe { lanes_in_avx2(values, interval) };
    }
    lanes_where(values, |v| interval.contains(v))
}

/// [`lanes_in`] four lanes per instruction: ordered comparisons are false for NaN, as
/// [`Interval::contains`] is.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn lanes_in_avx2(values: &Lanes, interval: Interval) -> u64 {
    use std::arch::x86_64::{
        _CMP_LE_OQ, _mm256_and_pd, _mm256_cmp_pd, _mm256_loadu_pd, _mm256_movemask_pd, _mm256_set1_pd,
    };
    let lo = _mm256_set1_pd(interval.lo);
    let hi = _mm256_set1_pd(interval.hi);
    let mut mask = 0;
    for (k, four) in values.chunks_exact(4).enumerate() {
        // SAFETY: `four` holds 4 doubles; the load is unaligned.
        let v = unsafe { _mm256_loadu_pd(four.as_ptr()) };
        let inside = _mm256_and_pd(_mm256_cmp_pd::<_CMP_LE_OQ>(lo, v), _mm256_cmp_pd::<_CMP_LE_OQ>(v, hi));
        mask |= u64::from(_mm256_movemask_pd(inside) as u32) << (4 * k);
    }
    mask
}

/// `lo <= x <= hi`, the one form every comparison of a slot with a constant takes in the
/// simulation ([`crate::eval::Cmp::as_interval`]). NaN lies in no interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub lo: f64,
    pub hi: f64,
}

impl Interval {
    pub const EMPTY: Interval = Interval {
        lo: f64::INFINITY,
        hi: f64::NEG_INFINITY,
    };

    /// Without a branch: `&` rather than `&&`.
    #[inline]
    pub fn contains(self, x: f64) -> bool {
        (x >= self.lo) & (x <= self.hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `lanes_in` (AVX2 on this processor, if it has it) agrees with its portable form, which a
    /// processor without AVX2 runs, NaN and infinities included.
    #[test]
    fn lanes_in_agrees_with_its_portable_form() {
        let specials = [
            f64::NEG_INFINITY,
            -1.0,
            -0.0,
            0.0,
            0.5,
            1.0,
            2.0,
            f64::INFINITY,
            f64::NAN,
        ];
        let values: Lanes = std::array::from_fn(|l| specials[l % specials.len()]);
        for &lo in &specials {
            for &hi in &specials {
                let interval = Interval { lo, hi };
                let expected = lanes_where(&values, |v| interval.contains(v));
                assert_eq!(lanes_in(&values, interval), expected, "[{lo}, {hi}]");
            }
        }
    }
}
