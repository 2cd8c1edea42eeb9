//! The sandbox's heap limit, enforced by the allocator QuickJS allocates through.
//!
//! QuickJS's own limit (`JS_SetMemoryLimit`) refuses an allocation without telling anyone,
//! and what the rule then sees depends on how much was left: `InternalError: out of memory`,
//! or `null` when not even that error could be allocated. A rule that catches it and calls
//! back with it (`catch (e) { return callback(e); }`) then reads as a success
//! (`callback(null)`). [`Metered`] refuses past the limit itself and records that it did,
//! so that a run of JavaScript that hit the limit anywhere ends in `resource_limit`
//! whatever the rule made of it.

#![allow(unsafe_code)]

use std::ptr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rquickjs::allocator::{Allocator, RustAllocator};

/// Rust's allocator (through rquickjs's `RustAllocator`), with a limit on the bytes in use.
pub(crate) struct Metered {
    used: usize,
    limit: usize,
    /// Set when an allocation is refused for the limit (Rust clears it before each rule).
    refused: Arc<AtomicBool>,
}

impl Metered {
    pub(crate) fn new(limit: usize, refused: Arc<AtomicBool>) -> Metered {
        Metered { used: 0, limit, refused }
    }

    /// Whether `more` bytes fit under the limit; records the refusal when they do not.
    fn admit(&mut self, more: usize) -> bool {
        let fits = self.used.saturating_add(more) <= self.limit;
        if !fits {
            self.refused.store(true, Ordering::Relaxed);
        }
        fits
    }

    /// Counts a block `RustAllocator` just returned (null: nothing to count).
    fn counted(&mut self, block: *mut u8) -> *mut u8 {
        if !block.is_null() {
            // SAFETY: `block` was just returned, non-null, by `RustAllocator`.
            self.used += unsafe { RustAllocator::usable_size(block) };
        }
        block
    }
}

// SAFETY: every block is allocated, resized and freed by `RustAllocator`, which meets the
// trait's contract (null, or at least the size asked, aligned for `usize`); `Metered` only
// refuses some requests by returning null (which the contract allows) and counts the sizes
// `RustAllocator` reports for blocks it made. The pointers QuickJS passes back to `dealloc`,
// `realloc` and `usable_size` were made by this allocator (the trait's contract on callers).
unsafe impl Allocator for Metered {
    fn alloc(&mut self, size: usize) -> *mut u8 {
        if !self.admit(size) {
            return ptr::null_mut();
        }
        let block = RustAllocator.alloc(size);
        self.counted(block)
    }

    fn calloc(&mut self, count: usize, size: usize) -> *mut u8 {
        // `RustAllocator` panics on an overflowing product: refused here first.
        let Some(total) = count.checked_mul(size) else { return ptr::null_mut() };
        if !self.admit(total) {
            return ptr::null_mut();
        }
        let block = RustAllocator.calloc(count, size);
        self.counted(block)
    }

    unsafe fn dealloc(&mut self, block: *mut u8) {
        // SAFETY: `block` was made by this allocator, hence by `RustAllocator` (see above).
        unsafe {
            self.used = self.used.saturating_sub(RustAllocator::usable_size(block));
            RustAllocator.dealloc(block);
        }
    }

    unsafe fn realloc(&mut self, block: *mut u8, new_size: usize) -> *mut u8 {
        if block.is_null() {
            return self.alloc(new_size);
        }
        // SAFETY: `block` was made by this allocator, hence by `RustAllocator` (see above).
        let old = unsafe { RustAllocator::usable_size(block) };
        if new_size > old && !self.admit(new_size - old) {
            return ptr::null_mut();
        }
        // SAFETY: as above; on failure `RustAllocator` leaves `block` as it was.
        let moved = unsafe { RustAllocator.realloc(block, new_size) };
        if !moved.is_null() {
            self.used = self.used.saturating_sub(old);
        }
        self.counted(moved)
    }

    unsafe fn usable_size(block: *mut u8) -> usize {
        // SAFETY: `block` was made by this allocator, hence by `RustAllocator` (see above).
        unsafe { RustAllocator::usable_size(block) }
    }
}
