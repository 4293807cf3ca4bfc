//! The `executor` binary: everything happens in `executor::run`.

fn main() -> std::process::ExitCode {
    executor::run::main_with_args(std::env::args_os()).into()
}
