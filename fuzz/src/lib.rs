//! Fuzz targets live in `tests` modules below: proptest generates inputs, each
//! property says what must hold for any input (no panic, a classified error, no
//! input echoed into a reason, nothing forged accepted). The number of cases comes
//! from `PROPTEST_CASES` (`make fuzz` sets it high).

#[cfg(test)]
mod bodies;
#[cfg(test)]
mod domain;
#[cfg(test)]
mod tokens;
