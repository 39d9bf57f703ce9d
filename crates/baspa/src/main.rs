//! `baspa`: one binary for the site, the admin, migrations and operations.

fn main() -> std::process::ExitCode {
    baspa::cli::main()
}
