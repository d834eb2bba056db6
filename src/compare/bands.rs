//! Splitting a pass over an image's rows into bands, one per core, with `std::thread::scope`.

/// How many threads a pass over `pixels` pixels uses.
pub(super) fn thread_count(pixels: usize) -> usize {
    if pixels < 1 << 18 {
        return 1;
    }
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8)
}

/// Runs `work(first_row, rows_chunk)` over horizontal bands of `out` (rows of `row_len`
/// elements), one band per thread, and returns each band's answer in order.
pub(super) fn for_row_bands<T, R, F>(out: &mut [T], row_len: usize, work: F) -> Vec<R>
where
    T: Send,
    R: Send,
    F: Fn(usize, &mut [T]) -> R + Sync,
{
    let rows = out.len().checked_div(row_len).unwrap_or(0);
    let threads = thread_count(out.len()).min(rows.max(1));
    if threads <= 1 {
        return vec![work(0, out)];
    }
    let rows_per_band = rows.div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = out
            .chunks_mut(rows_per_band * row_len)
            .enumerate()
            .map(|(i, chunk)| {
                let work = &work;
                scope.spawn(move || work(i * rows_per_band, chunk))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| match h.join() {
                Ok(r) => r,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}
