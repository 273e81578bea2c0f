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

fn main() -> ExitCode {
    return_freed_memory_at_once();
    let cli = fedscan::cli::Cli::parse();
    ExitCode::from(fedscan::app::run(cli))
}

/// Memory freed is given back to the system at once, not a second or more
/// later: a streamed batch frees each chunk's facts and findings, and with
/// the delay its peak RSS at 2,000 domains was 83-92 MB instead of 56-61 MB
/// (same wall time; a 10,000-domain replay 20% smaller and as fast).
fn return_freed_memory_at_once() {
    // SAFETY: sets one of the allocator's runtime options, read when it next
    // purges; nothing else is touched.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
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

    /// The option number means the purge delay in the mimalloc built here.
    #[test]
    fn the_purge_delay_is_the_option_set() {
        super::return_freed_memory_at_once();
        let mut options = String::new();
        // SAFETY: `collect` appends to the String passed as its argument.
        unsafe { mi_options_print_out(collect, (&raw mut options).cast()) };
        assert!(options.contains("option 'purge_delay': 0"), "{options}");
    }
}
