//! The heap of one run of mlk, which allocates as it goes and then exits.
//!
//! glibc's defaults suit a long-lived server: a large buffer gets pages
//! of its own that go back to the kernel when it is freed, and so does
//! free memory at the top of the heap. Each page taken again is faulted
//! in again, 4 KiB at a time, and a fault costs microseconds in a virtual
//! machine: a render of 1,000 models took some 3,000 of them, a third of
//! its time. So mlk keeps what it frees, grows the heap in one reserve
//! of address space, and asks for transparent huge pages over that
//! reserve past its first 2 MiB, so that a large render faults in 2 MiB
//! at a time. Only pages used count as memory, and a small render never
//! reaches the huge pages.

/// Tunes the heap; call it first, before anything allocates much. Where
/// the allocator is not glibc's, or the kernel has no huge pages, it does
/// nothing, and every call it makes is advice that may be refused.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn tune() {
    const RESERVE: usize = 256 << 20;
    const HUGE_PAGE: usize = 2 << 20;
    const SMALL: usize = 2 << 20;
    const PROBE: usize = 256 << 10;
    const DEFAULT_TOP_PAD: i32 = 128 << 10;
    // SAFETY: mallopt, sbrk(0) and madvise(MADV_HUGEPAGE) change no
    // memory the program holds. The probe block is allocated and freed
    // here, and never read.
    unsafe {
        // Blocks of up to 32 MiB (glibc's maximum) come from the heap,
        // which keeps them when freed for the next block.
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
        libc::mallopt(libc::M_TOP_PAD, RESERVE as i32);
        let start = libc::sbrk(0) as usize;
        // A block larger than the heap's free top grows it by the reserve.
        libc::free(std::hint::black_box(libc::malloc(PROBE)));
        // Later growth asks for no more than glibc's default pad: under a
        // limit on address space the reserve may have been refused, and
        // every block after it must not ask for as much again.
        libc::mallopt(libc::M_TOP_PAD, DEFAULT_TOP_PAD);
        let end = libc::sbrk(0) as usize;
        // The first 2 MiB above the start stay in small pages: a small
        // render's heap (under 1 MiB) never reaches a huge one.
        let first = (start + SMALL).next_multiple_of(HUGE_PAGE);
        if end > first + HUGE_PAGE {
            let len = (end - first) / HUGE_PAGE * HUGE_PAGE;
            libc::madvise(first as *mut libc::c_void, len, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn tune() {}
