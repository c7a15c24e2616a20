// Parsing a large input allocates millions of small strings and vectors, on several threads;
// mimalloc's per-thread free lists do that with less time in the allocator than glibc's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    kubectl_hooks::cli::main()
}
