fn main() -> std::process::ExitCode {
    kubectl_hooks::cli::main()
}
