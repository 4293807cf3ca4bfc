//! The `executor` binary: everything happens in `executor::cli::run`.

fn main() -> std::process::ExitCode {
    executor::cli::run::main_with_args(std::env::args_os()).into()
}
