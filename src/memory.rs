//! Keeping the process's memory bounded over many edits. glibc's allocator gives each thread
//! that allocates its own arena (up to eight per core), and the text models' worker threads,
//! the job threads and each result's lettering check all allocate large, short-lived buffers:
//! freed memory then stays spread over many arenas. Measured with `benches/batch_memory.sh`
//! (benches/README.md, "Memory of local edits"): 20 local edits peaked at 1054 MiB with the
//! default arenas, 643 MiB with two; shrinking the text models' plan caches changed nothing,
//! then and again in session 12; a fixed threshold for mapping big blocks did (below).

/// Limits glibc to two malloc arenas. Call once at start, before threads are spawned.
/// Elsewhere a no-op.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called before other threads start.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        // Blocks of 8 MiB and more (pictures, the text detector's working maps) are mapped
        // and unmapped on their own. glibc otherwise raises this threshold each time such a
        // block is freed (up to 32 MiB), after which the big short-lived blocks come from the
        // heaps and their pages stay with the process after they are freed. Measured
        // (benches/README.md, "Memory of local edits"): 100 local edits peaked at 706 MiB
        // without it, 501 MiB with 8 MiB (12 % slower), 397 MiB with 1 MiB (31 % slower).
        libc::mallopt(libc::M_MMAP_THRESHOLD, 8 << 20);
    }
}

/// Hands memory freed by a large, finished piece of work (a lettering check) back to the
/// system. Elsewhere a no-op.
pub fn release_free() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns unused pages of the allocator's heaps.
    unsafe {
        libc::malloc_trim(0);
    }
}
