//! Sampling shared by the benches: the median over repeated timed samples.

use std::time::Instant;

/// Runs `samples` samples of `ops` calls of `f` and returns the median time per call in ns.
pub fn median_ns(samples: usize, ops: u64, mut f: impl FnMut()) -> f64 {
    let mut per_op: Vec<f64> = (0..samples)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..ops {
                f();
            }
            t.elapsed().as_nanos() as f64 / ops as f64
        })
        .collect();
    per_op.sort_by(f64::total_cmp);
    per_op[samples / 2]
}
