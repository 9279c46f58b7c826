//! Lanes: the batch layout the lockstep engine runs on, and the vector instructions it uses.
//!
//! In: one value per lane of a batch of [`LANES`] runs ([`Lanes`]) and an [`Interval`]. Out: a
//! 64-bit mask, bit `l` for lane `l`, of the lanes whose value lies in the interval
//! ([`lanes_in`], four lanes per instruction with AVX2).
//!
//! [`Simd`] is which vector instructions the engine uses: chosen once per job (the best the
//! processor has, or the portable code a processor without them runs, so that tests can run the
//! whole engine both ways on one machine) and passed to everything that has an AVX2 form.

/// The vector instructions the lockstep engine and the block function use. Results never
/// depend on it: every form computes the same bits. Only [`Simd::detect`] and [`Simd::parse`]
/// make one, so a form the processor lacks (and whose instructions would be undefined
/// behaviour) cannot be asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Simd(Form);

/// Ordered by capability.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Form {
    /// No vector intrinsics: what a processor of another architecture runs.
    Scalar,
    /// SSE2, part of every x86-64 processor: the block function computes 4 blocks at once,
    /// everything else is portable code.
    Sse2,
    /// AVX2 (x86-64 processors from 2013 on).
    Avx2,
}

impl Simd {
    /// The best this processor has.
    pub fn detect() -> Simd {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                Simd(Form::Avx2)
            } else {
                Simd(Form::Sse2)
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            Simd(Form::Scalar)
        }
    }

    /// `auto` (the best this processor has), `avx2`, `sse2` or `scalar`, as the `SIM_SIMD`
    /// environment variable gives it to `sim` (tests use it to run the portable code). A form
    /// this processor lacks is refused, never silently replaced.
    pub fn parse(name: &str) -> Result<Simd, String> {
        let wanted = match name {
            "auto" => return Ok(Simd::detect()),
            "avx2" => Form::Avx2,
            "sse2" => Form::Sse2,
            "scalar" => Form::Scalar,
            _ => return Err(format!("SIM_SIMD is `{name}`: use auto, avx2, sse2 or scalar")),
        };
        if Simd(wanted) > Simd::detect() {
            return Err(format!("SIM_SIMD asks for {name}, which this processor does not have"));
        }
        Ok(Simd(wanted))
    }

    /// Every form this processor has, best first.
    pub fn available() -> Vec<Simd> {
        [Form::Avx2, Form::Sse2, Form::Scalar]
            .map(Simd)
            .into_iter()
            .filter(|&s| s <= Simd::detect())
            .collect()
    }

    /// Whether AVX2 instructions may be used.
    #[inline]
    pub fn avx2(self) -> bool {
        self.0 == Form::Avx2
    }

    /// Whether SSE2 instructions may be used.
    #[inline]
    pub fn sse2(self) -> bool {
        self.0 >= Form::Sse2
    }
}

impl std::fmt::Display for Simd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.0 {
            Form::Scalar => "scalar",
            Form::Sse2 => "sse2",
            Form::Avx2 => "avx2",
        })
    }
}

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
pub fn lanes_in(values: &Lanes, interval: Interval, simd: Simd) -> u64 {
    #[cfg(target_arch = "x86_64")]
    if simd.avx2() {
        // SAFETY: a `Simd` allows AVX2 only on a processor that has it.
        return unsafe { lanes_in_avx2(values, interval) };
    }
    let _ = simd;
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
    /// Zero alone (-0 too): a slot read as a truth value is false exactly there.
    pub const ZERO: Interval = Interval { lo: 0.0, hi: 0.0 };

    /// Without a branch: `&` rather than `&&`.
    #[inline]
    pub fn contains(self, x: f64) -> bool {
        (x >= self.lo) & (x <= self.hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_the_processor_lacks_is_refused() {
        assert_eq!(Simd::parse("auto"), Ok(Simd::detect()));
        assert_eq!(Simd::parse("scalar").map(|s| s.to_string()), Ok("scalar".to_string()));
        assert!(
            Simd::parse("neon")
                .unwrap_err()
                .contains("use auto, avx2, sse2 or scalar")
        );
        for name in ["avx2", "sse2"] {
            let has = Simd::available().iter().any(|s| s.to_string() == name);
            assert_eq!(Simd::parse(name).is_ok(), has, "{name}");
        }
    }

    /// `lanes_in` agrees with its portable form in every form this processor has, NaN and
    /// infinities included.
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
                for simd in Simd::available() {
                    assert_eq!(lanes_in(&values, interval, simd), expected, "{simd}: [{lo}, {hi}]");
                }
            }
        }
    }
}
