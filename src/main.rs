use std::process::ExitCode;

use clap::Parser;

/// A batch builds and drops hundreds of thousands of small strings and JSON
/// values. Replaying 10,000 domains' facts, best of 2 on 2 cores: glibc's
/// allocator 3.1-3.3 s (4.3 s of CPU), mimalloc 1.5-2.3 s (2.1 s of CPU).
/// A live streamed batch of 2,000 domains runs as fast with either.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in the mimalloc v3 enum of libmimalloc-sys 0.1.49
/// (pinned in Cargo.toml: its Rust bindings still carry the v2 names, and
/// the enum's order is what this number means).
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;
const PURGE_DELAY_MS: std::ffi::c_long = 10;
/// `mi_option_destroy_on_exit` in the same enum; at 2 (and above) the
/// allocator's own end-of-process handler returns at once.
const MI_OPTION_DESTROY_ON_EXIT: std::ffi::c_int = 22;
const LEAVE_THE_HEAP_TO_THE_SYSTEM: std::ffi::c_long = 2;

fn main() -> ExitCode {
    return_freed_memory_soon();
    end_without_collecting();
    match fedscan::cli::Cli::try_parse() {
        Ok(cli) => ExitCode::from(fedscan::app::run(cli)),
        Err(error) => ExitCode::from(fedscan::app::argument_error(&error)),
    }
}

/// Memory freed is given back to the system after 10 ms, not a second or
/// more: a streamed batch frees each chunk's facts and findings. Streamed
/// batch of 2,000 domains, 3 runs each: mimalloc's default 1.12-1.17 s and
/// 77-98 MB; 10 ms 1.14-1.17 s and 53-59 MB; at once (0) 1.20-1.27 s and
/// 50-52 MB (an madvise per page freed).
fn return_freed_memory_soon() {
    // SAFETY: sets one of the allocator's runtime options, read when it next
    // purges; nothing else is touched.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) };
}

/// At exit the system takes the whole heap back: the allocator need not
/// first collect and return it page range by page range (a one-domain scan
/// spent 0.2 ms ending on two dozen madvise calls).
fn end_without_collecting() {
    // SAFETY: as above; the option is read by the allocator's exit handler.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_DESTROY_ON_EXIT, LEAVE_THE_HEAP_TO_THE_SYSTEM) };
}

#[cfg(test)]
mod tests {
    use std::ffi::{CStr, c_char, c_void};

    unsafe extern "C" {
        fn mi_options_print_out(out: extern "C" fn(*const c_char, *mut c_void), arg: *mut c_void);
    }

    extern "C" fn collect(message: *const c_char, into: *mut c_void) {
        // SAFETY: mimalloc passes a NUL-terminated message and the argument
        // given below, a String.
        let (message, into) = unsafe { (CStr::from_ptr(message), &mut *into.cast::<String>()) };
        into.push_str(&message.to_string_lossy());
    }

    /// The option numbers mean the purge delay and the exit handler's
    /// option in the mimalloc built here.
    #[test]
    fn the_allocator_options_are_the_ones_set() {
        super::return_freed_memory_soon();
        super::end_without_collecting();
        let mut options = String::new();
        // SAFETY: `collect` appends to the String passed as its argument.
        unsafe { mi_options_print_out(collect, (&raw mut options).cast()) };
        assert!(options.contains("option 'purge_delay': 10"), "{options}");
        assert!(options.contains("option 'destroy_on_exit': 2"), "{options}");
    }
}
